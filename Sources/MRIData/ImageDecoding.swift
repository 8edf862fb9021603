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
/// (0...255 for 8-bit files, 0...65535 for 16-bit PNGs).
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height, "GrayImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Decodes JPEG (TurboJPEG) and PNG (libpng's simplified API) files to greyscale.
///
/// Not thread-safe: each thread makes its own decoder (it owns a TurboJPEG handle).
public final class ImageDecoder {
    private let jpegHandle: tjhandle?

    public init() {
        jpegHandle = tjInitDecompress()
    }

    deinit {
        if let jpegHandle { tjDestroy(jpegHandle) }
    }

    /// Reads and decodes the file at `path`, choosing the codec from its first bytes.
    public func decodeFile(_ path: String) throws -> GrayImage {
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
        throw MRIDataError.unreadableFile(path: path, reason: "neither a JPEG nor a PNG file (\(bytes.count) bytes)")
    }

    /// JPEG -> 8-bit grey through TurboJPEG. A warning (for example a truncated stream) is an error here:
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
        var grey = [UInt8](repeating: 0, count: Int(width) * Int(height))
        let status = bytes.withUnsafeBufferPointer { source in
            grey.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, size, target.baseAddress,
                              width, 0, height, Int32(TJPF_GRAY.rawValue), 0)
            }
        }
        guard status == 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "JPEG data is damaged (\(Self.jpegError(handle)))")
        }
        return GrayImage(width: Int(width), height: Int(height), pixels: grey.map(Float.init))
    }

    private static func jpegError(_ handle: tjhandle) -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: message)
    }

    /// PNG -> grey through libpng's simplified API: 8-bit files as `PNG_FORMAT_GRAY` (0...255),
    /// 16-bit files as `PNG_FORMAT_LINEAR_Y` (0...65535). Colour files are converted to grey by libpng.
    public static func decodePNG(_ bytes: [UInt8], path: String) throws -> GrayImage {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = bytes.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard began != 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "bad PNG header (\(pngMessage(image)))")
        }
        let sixteenBit = (image.format & PNGFormat.linearFlag) != 0
        image.format = sixteenBit ? PNGFormat.linearGray : PNGFormat.gray
        let width = Int(image.width), height = Int(image.height)
        var pixels: [Float]
        var finished: Int32
        if sixteenBit {
            var buffer = [UInt16](repeating: 0, count: width * height)
            finished = bytes.withUnsafeBytes { _ in
                buffer.withUnsafeMutableBytes { target in
                    png_image_finish_read(&image, nil, target.baseAddress, 0, nil)
                }
            }
            pixels = buffer.map(Float.init)
        } else {
            var buffer = [UInt8](repeating: 0, count: width * height)
            finished = buffer.withUnsafeMutableBytes { target in
                png_image_finish_read(&image, nil, target.baseAddress, 0, nil)
            }
            pixels = buffer.map(Float.init)
        }
        guard finished != 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "PNG data is damaged (\(pngMessage(image)))")
        }
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// The message libpng left in `image.message` (a fixed 64-byte C string).
    static func pngMessage(_ image: png_image) -> String {
        var message = image.message
        return withUnsafeBytes(of: &message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
