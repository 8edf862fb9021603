import Foundation

/// Reads the figshare release itself (Cheng, doi:10.6084/m9.figshare.1512427): a folder of `<id>.mat`
/// files (MATLAB v7.3) and, optionally, `cvind.mat` with the official patient-wise folds.
///
/// Each `<id>.mat` holds group `cjdata` with `label` (1x1 double, 1...3), `PID` (uint16 character
/// codes), `image` (int16, R x C, stored transposed), `tumorBorder` (not read) and `tumorMask`
/// (uint8, R x C, stored transposed). `cvind.mat` holds `cvind` (1 x 3064 double): the fold of `<id>.mat`
/// at position id - 1. Files are read in id order on one thread (libhdf5 is serial).
///
/// Every number is checked before it is converted (a NaN or infinite Double must never reach `Int(_:)`):
/// a label, fold or character code that is NaN, infinite, fractional or out of range is an error naming
/// the file and the field; NaN or infinite image (or mask) values are read as 0, with a warning naming
/// the file (MATLAB exports store a masked-out background as NaN).
struct FigshareMatReader: DatasetReader {
    let folder: String
    let ids: [Int]
    let foldIndexPath: String?
    let warnings: [String]

    /// The id of a figshare slice file name (`123.mat` -> 123), or nil.
    static func figshareID(fileName: String) -> Int? {
        guard fileName.hasSuffix(".mat") else { return nil }
        let stem = fileName.dropLast(4)
        guard !stem.isEmpty, stem.allSatisfy(\.isASCII), let id = Int(stem), id > 0 else { return nil }
        return id
    }

    init(folder: String) throws {
        self.folder = folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MRIDataError.missingPath(folder)
        }
        let listing = MetadataFiles.listing(folder)
        ids = listing.names.compactMap(Self.figshareID(fileName:)).sorted()
        guard !ids.isEmpty else { throw MRIDataError.noImages(folder + " (no <id>.mat files; unzip the release's four zips here)") }
        let cvind = FilePaths.joining(folder, "cvind.mat")
        foldIndexPath = FileManager.default.fileExists(atPath: cvind) ? cvind : nil
        warnings = (foldIndexPath == nil ? ["no cvind.mat in \(folder); the dataset has no folds"] : [])
            + [MetadataFiles.warning(skipped: listing.skipped, in: folder)].compactMap { $0 }
    }

    func path(of id: Int) -> String { FilePaths.joining(folder, "\(id).mat") }

    func inputFiles() -> [String] { ids.map(path(of:)) + (foldIndexPath.map { [$0] } ?? []) }

    /// The folds of `cvind.mat` (values 1...5), position id - 1 for `<id>.mat`.
    static func readFoldIndex(_ path: String) throws -> [Int] {
        let (_, values) = try MATFile(path: path).readDoubles("cvind")
        return try values.map { value in
            guard let fold = Int(exactly: value), (1...100).contains(fold) else {
                throw MRIDataError.unreadableFile(path: path, reason: "`cvind` holds \(value), not a fold number (1...100)")
            }
            return fold
        }
    }

    /// `values` as Float with every NaN or infinite entry (or one beyond Float's range) read as 0, and a
    /// warning naming `file` and `field` when there was any.
    static func finiteFloats(_ values: [Double], field: String, file: String) -> (values: [Float], warning: String?) {
        var nonFinite = 0
        let floats = values.map { value -> Float in
            let float = Float(value)
            guard float.isFinite else {
                nonFinite += 1
                return 0
            }
            return float
        }
        guard nonFinite > 0 else { return (floats, nil) }
        return (floats, "\(file): \(nonFinite) of \(values.count) values of `\(field)` are NaN or infinite; read as 0")
    }

    /// What a figshare slice file holds, as libhdf5 reads it (before any preprocessing).
    struct RawSlice {
        /// `TumourClass.rawValue` of `cjdata/label`.
        var label: Int
        var patient: String
        var image: (rows: Int, columns: Int, values: [Double])
        /// `cjdata/tumorMask` when present with the image's dims.
        var mask: (rows: Int, columns: Int, values: [Double])?
    }

    /// Reads `cjdata/label`, `PID`, `image` and `tumorMask` of the slice at `file`: every libhdf5 call a load makes
    /// for it (also what `MATProbe` replays in its child process). Errors name the file and the field.
    static func readSlice(_ file: String) throws -> RawSlice {
        let mat = try MATFile(path: file)
        let (_, labelValues) = try mat.readDoubles("cjdata/label")
        guard labelValues.count == 1, let code = Int(exactly: labelValues[0]),
              let tumourClass = TumourClass(figshareLabel: code) else {
            throw MRIDataError.invalidLabel(path: "\(file) (`cjdata/label`)",
                                            label: labelValues.map { "\($0)" }.joined(separator: " "))
        }
        let patient = try mat.readString("cjdata/PID")
        let image = try mat.readMatrix("cjdata/image")
        guard image.rows > 0, image.columns > 0 else {
            throw MRIDataError.unreadableFile(path: file, reason: "`cjdata/image` is empty (\(image.rows) x \(image.columns))")
        }
        var mask: (rows: Int, columns: Int, values: [Double])?
        if let stored = try? mat.readMatrix("cjdata/tumorMask"), stored.rows == image.rows, stored.columns == image.columns {
            mask = stored
        }
        return RawSlice(label: tumourClass.rawValue, patient: patient, image: image, mask: mask)
    }

    func load(imageSize: Int, options: LoadOptions) throws -> (dataset: MRIDataset, report: DecodeReport) {
        // libhdf5 crashes on some damaged files where no check can tell beforehand: with a probe executable (the
        // command-line tool) every file is read once in a child process first, and a crash there is an error here.
        let crashed = try MATProbe.crashingFiles(inputFiles())
        if let foldIndexPath, let reason = crashed[foldIndexPath] {
            throw MRIDataError.unreadableFile(path: foldIndexPath, reason: reason)
        }
        if let first = ids.map(path(of:)).first(where: { crashed[$0] != nil }), !options.skipUnreadable {
            let others = crashed.count > 1 ? "; so does \(crashed.count - 1) other file" + (crashed.count > 2 ? "s" : "") : ""
            throw MRIDataError.unreadableFile(
                path: first, reason: (crashed[first] ?? "") + others + "; --skip-unreadable leaves such files out")
        }
        var folds: [Int]?
        if let foldIndexPath {
            let index = try Self.readFoldIndex(foldIndexPath)
            if let last = ids.last, last > index.count {
                throw MRIDataError.unreadableFile(
                    path: foldIndexPath, reason: "it lists \(index.count) slices but \(path(of: last)) exists")
            }
            folds = ids.map { index[$0 - 1] }
        }
        var labels = [Int](repeating: 0, count: ids.count)
        var patients = [String](repeating: "", count: ids.count)
        // One thread: libhdf5 is not thread-safe.
        let (images, masks, report) = DatasetLoader.assemble(
            count: ids.count, imageSize: imageSize, threads: 1, withMasks: true, skipUnreadable: options.skipUnreadable
        ) { i, _ in
            let file = path(of: ids[i])
            if let reason = crashed[file] { throw MRIDataError.unreadableFile(path: file, reason: reason) }
            let slice = try Self.readSlice(file)
            labels[i] = slice.label
            patients[i] = slice.patient
            let imageValues = Self.finiteFloats(slice.image.values, field: "cjdata/image", file: file)
            let pixels = Preprocessing.preprocessed(pixels: imageValues.values, width: slice.image.columns, height: slice.image.rows,
                                                    size: imageSize, intensity: options.reading.intensity.resolved(for: .figshareMat))
            var mask: [Float]?
            var warnings = [imageValues.warning].compactMap { $0 }
            if let stored = slice.mask {
                let maskValues = Self.finiteFloats(stored.values, field: "cjdata/tumorMask", file: file)
                warnings += [maskValues.warning].compactMap { $0 }
                mask = Preprocessing.preprocessedMask(maskValues.values.map { $0 > 0 ? 1 : 0 },
                                                      width: stored.columns, height: stored.rows, size: imageSize)
            }
            return DatasetLoader.Sample(image: pixels, mask: mask, warnings: warnings)
        }
        let dataset = MRIDataset(images: images, labels: labels, folds: folds, patientIDs: patients, masks: masks,
                                 sourceIDs: ids, sourceDescription: "figshare .mat release \(folder) (\(ids.count) slices)")
        return (dataset, report)
    }
}
