import CPNG
import CTurboJPEG
import Foundation

/// libpng's `PNG_FORMAT_*` values (macros built from unsigned literals, which do not import into Swift).
enum PNGFormat {
    static let gray: png_uint_32 = 0         // PNG_FORMAT_GRAY
    static let colourFlag: png_uint_32 = 2   // PNG_FORMAT_FLAG_COLOR
    static let linearFlag: png_uint_32 = 4   // PNG_FORMAT_FLAG_LINEAR
    static let rgb: png_uint_32 = colourFlag  // PNG_FORMAT_RGB
    static let linearGray: png_uint_32 = linearFlag  // PNG_FORMAT_LINEAR_Y
}

/// A decoded greyscale image: `height` rows of `width` pixels, row-major, on the file's own scale
/// (0...255 for 8-bit files, 0...65535 for 16-bit PNGs, the modality's units for DICOM, scaled voxel
/// values for NIfTI).
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]
    /// The file format, which decides what `IntensityMapping.standard` means for the image.
    public var format: ImageFileFormat

    public init(width: Int, height: Int, pixels: [Float], format: ImageFileFormat) {
        precondition(pixels.count == width * height, "GrayImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.format = format
    }
}

/// Decodes JPEG (TurboJPEG), PNG (libpng's simplified API, see PNGDecoding.swift), DICOM (DCMTK,
/// DICOMDecoding.swift) and NIfTI slices (niftilib, NIfTIDecoding.swift) to greyscale.
///
/// Not thread-safe: each thread makes its own decoder (it owns a TurboJPEG handle and the last NIfTI
/// volume read).
public final class ImageDecoder {
    private let jpegHandle: tjhandle?
    /// Faults the decoder forgave since the last `takeWarnings()`, one message each naming the file.
    public internal(set) var warnings: [String] = []
    /// The last NIfTI volume read (a file's slices are read one after another: one decompression each).
    var lastVolume: NIfTIVolume?

    public init() {
        jpegHandle = tjInitDecompress()
    }

    deinit {
        if let jpegHandle { tjDestroy(jpegHandle) }
    }

    /// The warnings gathered so far, which are then cleared.
    public func takeWarnings() -> [String] {
        defer { warnings = [] }
        return warnings
    }

    /// Reads and decodes the slice `reference` names: a NIfTI volume's slice, or a whole image file.
    public func decode(_ reference: SliceReference) throws -> GrayImage {
        guard ImageFileFormat(path: reference.path) == .nifti else {
            precondition(reference.slice == nil && reference.volume == nil,
                         "ImageDecoder.decode: a slice or volume index for \(reference.path), which is no NIfTI file")
            return try decodeFile(reference.path)
        }
        return try decodeNIfTISlice(reference)
    }

    /// Reads and decodes the file at `path`: DICOM and NIfTI (a volume of one slice) by their names or the
    /// DICOM marker, JPEG and PNG by their first bytes.
    public func decodeFile(_ path: String) throws -> GrayImage {
        try MRIDataError.requireFile(path)
        switch ImageFileFormat(path: path) {
        case .dicom: return try Self.decodeDICOM(path: path)
        case .nifti: return try decodeNIfTISlice(SliceReference(path: path))
        default: break
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileManager.default.fileExists(atPath: path)
                ? MRIDataError.unreadableFile(path: path, reason: "the file cannot be opened")
                : MRIDataError.missingPath(path)
        }
        return try decode([UInt8](data), path: path)
    }

    /// Decodes JPEG or PNG bytes; `path` only names the file in errors.
    public func decode(_ bytes: [UInt8], path: String) throws -> GrayImage {
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
            return try decodeJPEG(bytes, path: path)
        }
        if bytes.count >= 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return try Self.decodePNG(bytes, path: path)
        }
        // A file named as a JPEG or PNG is damaged; any other is not an image this tool reads (a README, a CSV).
        guard let named = ImageFileFormat(path: path), named == .jpeg || named == .png else {
            throw MRIDataError.unsupportedImage(path: path, reason: "not an image file this tool reads: \(Self.readableFormats); "
                + "its name and first bytes match none of them")
        }
        throw MRIDataError.unreadableFile(path: path, reason: "neither a JPEG, a PNG, a DICOM nor a NIfTI file by its first bytes (\(bytes.count) bytes)")
    }

    /// The image files the tool reads and how it tells them, for messages.
    public static let readableFormats = "JPEG and PNG (told by their first bytes), DICOM (.dcm, .dicom, or a name without "
        + "extension and the DICM marker) and NIfTI-1/2 (.nii, .nii.gz)"

    /// The longest side an image may have: 8192 pixels (an MRI slice has 512 x 512). A header may declare up to
    /// 65,535 pixels a side (JPEG, DICOM), 1,000,000 (libpng's limit) or 2^63 (NIfTI-2), which would be allocated
    /// before a single pixel is read; and preprocessing pads an image to a square of its longer side, so even a
    /// 65,535 x 1 image would cost 65,535^2 values. Both sides within it keep every image within 8192^2 pixels.
    public static let maximumSide = 8192

    /// Why a `width` x `height` image is refused, or nil when both sides are within `maximumSide`.
    static func tooLarge(width: Int, height: Int) -> String? {
        guard width > maximumSide || height > maximumSide else { return nil }
        return "the header declares \(width) x \(height) pixels, beyond the \(maximumSide) x \(maximumSide) this loader accepts "
            + "(an MRI slice has 512 x 512): the file is damaged, or not an MRI slice"
    }

    /// libjpeg warnings after which every pixel is still decoded (the first warning of a decode is the
    /// one TurboJPEG reports): stray bytes between segments, an unknown JFIF version, a bad ICC marker.
    static let harmlessJPEGWarnings = ["extraneous bytes before marker", "unknown JFIF revision number", "bad ICC marker"]

    /// JPEG -> 8-bit grey through TurboJPEG: grey and YCbCr files as grey (Y), CMYK and YCCK files as
    /// CMYK, converted by `greyFromCMYK`. A harmless warning (`harmlessJPEGWarnings`) is kept in
    /// `warnings`; any other warning (a truncated stream, corrupt entropy-coded data) is an error here:
    /// a partly grey image must not slip into a training set.
    public func decodeJPEG(_ bytes: [UInt8], path: String) throws -> GrayImage {
        guard let handle = jpegHandle else {
            throw MRIDataError.unreadableFile(path: path, reason: "TurboJPEG failed to initialise")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let size = UInt(bytes.count)
        let headerStatus = bytes.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, size, &width, &height, &subsampling, &colourspace)
        }
        guard headerStatus == 0, width > 0, height > 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "bad JPEG header (\(Self.jpegError(handle)))")
        }
        if let problem = Self.tooLarge(width: Int(width), height: Int(height)) {
            throw MRIDataError.unreadableFile(path: path, reason: problem)
        }
        let isCMYK = colourspace == Int32(TJCS_CMYK.rawValue) || colourspace == Int32(TJCS_YCCK.rawValue)
        let format = isCMYK ? TJPF_CMYK : TJPF_GRAY
        var decoded = [UInt8](repeating: 0, count: Int(width) * Int(height) * (isCMYK ? 4 : 1))
        let status = bytes.withUnsafeBufferPointer { source in
            decoded.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, size, target.baseAddress,
                              width, 0, height, Int32(format.rawValue), 0)
            }
        }
        if status != 0 {
            let message = Self.jpegError(handle)
            guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue),
                  Self.harmlessJPEGWarnings.contains(where: { message.contains($0) }) else {
                throw MRIDataError.unreadableFile(path: path, reason: "JPEG data is damaged (\(message))")
            }
            warnings.append("\(path): \(message) (libjpeg warning; every pixel decoded, the image is used)")
        }
        let pixels = isCMYK ? Self.greyFromCMYK(decoded, inverted: Self.hasAdobeMarker(bytes)) : decoded.map(Float.init)
        return GrayImage(width: Int(width), height: Int(height), pixels: pixels, format: .jpeg)
    }

    /// CMYK bytes [N * 4] -> grey [N] in 0...255 (rounded), through RGB = (1 - C)(1 - K) as a colour
    /// profile-free viewer shows it, then Y = 0.299 R + 0.587 G + 0.114 B (the luma TurboJPEG gives for
    /// YCbCr files). `inverted`: the Adobe convention (Photoshop, Pillow), which stores 255 - C etc.
    static func greyFromCMYK(_ cmyk: [UInt8], inverted: Bool) -> [Float] {
        (0..<(cmyk.count / 4)).map { i in
            let ink = (0..<4).map { k in inverted ? 1 - Float(cmyk[4 * i + k]) / 255 : Float(cmyk[4 * i + k]) / 255 }
            let black = 1 - ink[3]
            let luma = 0.299 * (1 - ink[0]) + 0.587 * (1 - ink[1]) + 0.114 * (1 - ink[2])
            return (255 * luma * black).rounded()
        }
    }

    /// True when the JPEG's header segments (before the first scan) hold an Adobe APP14 marker.
    static func hasAdobeMarker(_ bytes: [UInt8]) -> Bool {
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0xDA || marker == 0xD9 { return false }  // start of scan, end of image
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker == 0xEE, length >= 7, i + 9 <= bytes.count, bytes[(i + 4)..<(i + 9)].elementsEqual("Adobe".utf8) {
                return true
            }
            i += 2 + length
        }
        return false
    }

    private static func jpegError(_ handle: tjhandle) -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: message)
    }
}
