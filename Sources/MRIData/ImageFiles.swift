import Foundation

/// The file formats slices are read from.
public enum ImageFileFormat: String, Codable, Sendable, CaseIterable {
    case jpeg, png, dicom, nifti
    /// A slice of the figshare MATLAB release (`cjdata/image`, int16).
    case figshareMat

    /// The format of the file at `path` as its name tells: `.jpg`/`.jpeg`, `.png`, `.dcm`/`.dicom`,
    /// `.nii`/`.nii.gz` (case-insensitive); a name without an extension is DICOM when the file carries
    /// the DICOM marker ("DICM" after the 128-byte preamble), as scanners' exports (`IM0001`) do. nil for
    /// anything else.
    public init?(path: String) {
        let name = FilePaths.lastComponent(path).lowercased()
        let suffix = FilePaths.lowercasedExtension(name)
        switch suffix {
        case "jpg", "jpeg": self = .jpeg
        case "png": self = .png
        case "dcm", "dicom": self = .dicom
        case "nii": self = .nifti
        case "gz" where name.hasSuffix(".nii.gz"): self = .nifti
        case "" where Self.hasDICOMMarker(path: path) && name != "dicomdir": self = .dicom
        default: return nil
        }
    }

    /// True when bytes 128..<132 of the file are "DICM" (the Part 10 file marker).
    static func hasDICOMMarker(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 132), head.count == 132 else { return false }
        return head.suffix(4).elementsEqual("DICM".utf8)
    }
}

/// One slice to read: a file, and for a NIfTI volume which axial slice and, in a 4D file, which volume.
public struct SliceReference: Sendable, Equatable, Hashable {
    public var path: String
    /// Index along the volume's third voxel axis (k of voxel (i, j, k)), 0-based; nil for other formats
    /// and for a NIfTI file of one slice.
    public var slice: Int?
    /// Index along the fourth axis of a 4D NIfTI file, 0-based; nil for a 3D one.
    public var volume: Int?

    public init(path: String, slice: Int? = nil, volume: Int? = nil) {
        self.path = path
        self.slice = slice
        self.volume = volume
    }

    /// The slices of one file that a dataset row (or a class folder's file) stands for. Any file but NIfTI
    /// is one slice, and takes no `slice` or `volume`. For a NIfTI file (its header read here):
    /// `.all`, every axial slice; `.selected`, the `slice` given, which may be left out when the volume
    /// has one slice. A 4D file needs `volume`; 5D and larger are refused. `context` ("manifest.csv line 4")
    /// is added to the errors, which name the file.
    public static func slices(of path: String, slice: Int?, volume: Int?, mode: NIfTISlices,
                              context: String? = nil) throws -> [SliceReference] {
        let at = context.map { " (\($0))" } ?? ""
        guard ImageFileFormat(path: path) == .nifti else {
            guard slice == nil && volume == nil else {
                throw MRIDataError.unsupportedImage(path: path, reason: "a `slice` or `volume` is given\(at), but only NIfTI "
                    + "volumes have slices; leave those cells empty for other files")
            }
            return [SliceReference(path: path)]
        }
        let header = try NIfTIHeader.read(path: path)
        let volumes = header.volumeCount, slices = header.sliceCount
        if volumes > 1 {
            guard let volume else {
                throw MRIDataError.unsupportedImage(path: path, reason: "a 4D file of \(volumes) volumes; choose one with a `volume` "
                    + "column in the manifest (0...\(volumes - 1))\(at)")
            }
            guard (0..<volumes).contains(volume) else {
                throw MRIDataError.unsupportedImage(path: path, reason: "volume \(volume) is outside its 0...\(volumes - 1)\(at)")
            }
        } else if let volume, volume != 0 {
            throw MRIDataError.unsupportedImage(path: path, reason: "volume \(volume) asked of a 3D file (only volume 0)\(at)")
        }
        let chosenVolume = volumes > 1 ? volume : nil
        if mode == .all { return (0..<slices).map { SliceReference(path: path, slice: $0, volume: chosenVolume) } }
        guard let slice else {
            guard slices == 1 else {
                throw MRIDataError.unsupportedImage(path: path, reason: "a volume of \(slices) axial slices; name one in a `slice` "
                    + "column of manifest.csv (0...\(slices - 1), in the file's voxel order), or read them all with "
                    + "--nifti-slices all\(at)")
            }
            return [SliceReference(path: path, slice: 0, volume: chosenVolume)]
        }
        guard (0..<slices).contains(slice) else {
            throw MRIDataError.unsupportedImage(path: path, reason: "slice \(slice) is outside its 0...\(slices - 1)\(at)")
        }
        return [SliceReference(path: path, slice: slice, volume: chosenVolume)]
    }
}

/// The text of a C shim's NUL-terminated message buffer.
func messageText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
