import CNIfTI
import Foundation

/// The header fields of a NIfTI-1 or NIfTI-2 file (`.nii`, `.nii.gz`) that the reader uses.
public struct NIfTIHeader: Sendable, Equatable {
    /// 1 or 2.
    public var version: Int
    /// Voxels along i, j, k (the file's voxel order: i fastest) and volumes along the fourth axis.
    public var width: Int, height: Int, sliceCount: Int, volumeCount: Int
    /// The voxel type ("INT16", "FLOAT32", ...).
    public var datatypeName: String
    /// scl_slope and scl_inter: value = stored x slope + intercept, unless slope is 0 (or not finite),
    /// which the NIfTI standard reads as "no scaling".
    public var scaleSlope: Double, scaleIntercept: Double

    /// The most voxels a 3D volume may hold: 2^28 (512 x 512 x 1024; 1 GiB as the 32-bit floats it is read
    /// into). A NIfTI-2 header may declare up to 2^63 voxels along each axis; each of the three axes is also held
    /// to `ImageDecoder.maximumSide`.
    public static let maximumVoxels = 1 << 28

    /// The header of the file at `path`, through niftilib (the CNIfTI shim). Throws `MRIDataError` naming
    /// the file: unreadable (not NIfTI, damaged header) or unsupported (5 or more dimensions, complex or RGB
    /// voxels, a 1D file, an axis beyond `ImageDecoder.maximumSide` or volumes beyond `maximumVoxels`).
    public static func read(path: String) throws -> NIfTIHeader {
        try MRIDataError.requireFile(path)
        var header = CNIfTIHeader()
        var error = [CChar](repeating: 0, count: 512)
        let status = cnifti_read_header(path, &header, &error, error.count)
        try check(status, error: error, path: path)
        let dims = withUnsafeBytes(of: header.dim) { Array($0.bindMemory(to: Int64.self)).map(Int.init) }
        let name = withUnsafeBytes(of: header.datatype_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard dims[0] >= 2 else {
            throw MRIDataError.unsupportedImage(path: path, reason: "a \(dims[0])-dimensional NIfTI file is no image")
        }
        guard dims[5...7].allSatisfy({ $0 == 1 }) else {
            throw MRIDataError.unsupportedImage(path: path, reason: "a NIfTI file of \(dims[0]) dimensions "
                + "(\(dims[1...dims[0]].map(String.init).joined(separator: " x "))); only 3D volumes and 4D series are read")
        }
        if let reason = ImageDecoder.tooLarge(width: dims[1], height: dims[2]) {
            throw MRIDataError.unsupportedImage(path: path, reason: reason)
        }
        // Each slice can become an image of the dataset (`--nifti-slices all`): the slice axis is held to the same
        // side as the others.
        guard dims[3] <= ImageDecoder.maximumSide else {
            throw MRIDataError.unsupportedImage(path: path, reason: "the header declares \(dims[3]) axial slices, more than the "
                + "\(ImageDecoder.maximumSide) this loader reads: the file is damaged, or not an MRI volume")
        }
        let (voxels, overflow) = (dims[1] * dims[2]).multipliedReportingOverflow(by: dims[3])
        guard !overflow, voxels <= maximumVoxels else {
            throw MRIDataError.unsupportedImage(path: path, reason: "the header declares volumes of \(dims[1]) x \(dims[2]) x "
                + "\(dims[3]) voxels, more than the \(maximumVoxels) (512 x 512 x 1024) this loader accepts: the file is damaged, "
                + "or a volume too large to read whole (crop or resample it first)")
        }
        guard [2, 4, 8, 16, 64, 256, 512, 768, 1024, 1280].contains(header.datatype) else {
            throw MRIDataError.unsupportedImage(path: path, reason: "its voxels are \(name), not greyscale values; "
                + "convert it to an integer or float type")
        }
        return NIfTIHeader(version: Int(header.version), width: dims[1], height: dims[2], sliceCount: dims[3],
                           volumeCount: dims[4], datatypeName: name, scaleSlope: header.scl_slope,
                           scaleIntercept: header.scl_inter)
    }

    /// Throws the `MRIDataError` of a shim status, with the shim's message.
    static func check(_ status: CNIfTIStatus, error: [CChar], path: String) throws {
        let reason = messageText(error)
        switch status {
        case CNIFTI_OK: return
        case CNIFTI_UNREADABLE: throw MRIDataError.unreadableFile(path: path, reason: reason)
        default: throw MRIDataError.unsupportedImage(path: path, reason: reason)
        }
    }

    /// Whether stored values are scaled (a finite, non-zero slope and a finite intercept).
    public var isScaled: Bool { scaleSlope.isFinite && scaleSlope != 0 && scaleIntercept.isFinite }
}

/// One 3D volume of a NIfTI file, scaled: `values` [slices, height, width] (the file's voxel order).
struct NIfTIVolume {
    var path: String
    var volume: Int?
    var header: NIfTIHeader
    var values: [Float]
}

extension ImageDecoder {
    /// Axial slice `reference.slice` (k, 0-based) of the NIfTI file's volume `reference.volume` (nil: a 3D
    /// file): width = the i axis, height = the j axis, as stored (no reorientation), values scaled by
    /// scl_slope and scl_inter. A reference without a slice takes the file's only slice. NaN or infinite
    /// values are read as 0, with a warning naming the file. The volume stays in the decoder, so reading a
    /// file's slices in turn decompresses it once. An entry point for fuzzing: any bytes at the path give a
    /// slice or an `MRIDataError`.
    public func decodeNIfTISlice(_ reference: SliceReference) throws -> GrayImage {
        var reference = reference
        if reference.slice == nil {
            reference = try SliceReference.slices(of: reference.path, slice: nil, volume: reference.volume, mode: .selected)[0]
        }
        let volume = try volume(path: reference.path, index: reference.volume)
        let header = volume.header
        let slice = reference.slice ?? 0
        guard (0..<header.sliceCount).contains(slice) else {
            throw MRIDataError.unsupportedImage(path: reference.path, reason: "slice \(slice) is outside its 0...\(header.sliceCount - 1)")
        }
        let area = header.width * header.height
        let pixels = Array(volume.values[(slice * area)..<((slice + 1) * area)])
        return GrayImage(width: header.width, height: header.height, pixels: pixels, format: .nifti)
    }

    /// Volume `index` of the file at `path`, from the decoder's last volume when it is that one.
    func volume(path: String, index: Int?) throws -> NIfTIVolume {
        if let lastVolume, lastVolume.path == path, lastVolume.volume == index { return lastVolume }
        let header = try NIfTIHeader.read(path: path)
        let volumeIndex = index ?? 0
        guard (0..<header.volumeCount).contains(volumeIndex), index != nil || header.volumeCount == 1 else {
            throw MRIDataError.unsupportedImage(path: path, reason: "a file of \(header.volumeCount) volumes has no volume "
                + "\(index.map(String.init) ?? "chosen"); choose one with a `volume` column in the manifest")
        }
        // Within `NIfTIHeader.maximumVoxels`. Grown as the voxels are read, a mebivoxel at a time: a header that
        // declares more than the file holds costs no more memory than the file's data.
        let count = header.width * header.height * header.sliceCount
        var error = [CChar](repeating: 0, count: 512)
        var opened: OpaquePointer?
        try NIfTIHeader.check(cnifti_open_volume(path, Int64(volumeIndex), Int64(count), &opened, &error, error.count),
                              error: error, path: path)
        guard let reader = opened else { throw MRIDataError.unreadableFile(path: path, reason: "the volume could not be opened") }
        defer { cnifti_close_volume(reader) }
        var values: [Float] = []
        while values.count < count {
            let start = values.count, wanted = Swift.min(1 << 20, count - start)
            values.append(contentsOf: repeatElement(0, count: wanted))
            let status = values.withUnsafeMutableBufferPointer { buffer in
                cnifti_read_voxels(reader, buffer.baseAddress.map { $0 + start }, Int64(wanted), &error, error.count)
            }
            try NIfTIHeader.check(status, error: error, path: path)
        }
        var nonFinite = 0
        let slope = header.isScaled ? header.scaleSlope : 1, intercept = header.isScaled ? header.scaleIntercept : 0
        for i in values.indices {
            let value = Float(Double(values[i]) * slope + intercept)
            if value.isFinite {
                values[i] = value
            } else {
                values[i] = 0
                nonFinite += 1
            }
        }
        if nonFinite > 0 {
            warnings.append("\(path): \(nonFinite) of \(count) voxels\(index.map { " of volume \($0)" } ?? "") are NaN or infinite; read as 0")
        }
        let volume = NIfTIVolume(path: path, volume: index, header: header, values: values)
        lastVolume = volume
        return volume
    }
}
