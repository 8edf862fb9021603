import Foundation

/// Reads the figshare release itself (Cheng, doi:10.6084/m9.figshare.1512427): a folder of `<id>.mat`
/// files (MATLAB v7.3) and, optionally, `cvind.mat` with the official patient-wise folds.
///
/// Each `<id>.mat` holds group `cjdata` with `label` (1x1 double, 1...3), `PID` (uint16 character
/// codes), `image` (int16, R x C, stored transposed), `tumorBorder` (unused here) and `tumorMask`
/// (uint8, R x C, stored transposed). `cvind.mat` holds `cvind` (1 x 3064 double): the fold of `<id>.mat`
/// at position id - 1. Files are read in id order on one thread (libhdf5 is serial).
struct FigshareMatReader: DatasetReader {
    let folder: String
    let ids: [Int]
    let foldIndexPath: String?

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
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        ids = names.compactMap(Self.figshareID(fileName:)).sorted()
        guard !ids.isEmpty else { throw MRIDataError.noImages(folder + " (no <id>.mat files; unzip the release's four zips here)") }
        let cvind = (folder as NSString).appendingPathComponent("cvind.mat")
        foldIndexPath = FileManager.default.fileExists(atPath: cvind) ? cvind : nil
    }

    func path(of id: Int) -> String { (folder as NSString).appendingPathComponent("\(id).mat") }

    func inputFiles() -> [String] { ids.map(path(of:)) + (foldIndexPath.map { [$0] } ?? []) }

    /// The folds of `cvind.mat` (values 1...5), position id - 1 for `<id>.mat`.
    static func readFoldIndex(_ path: String) throws -> [Int] {
        let (_, values) = try MATFile(path: path).readDoubles("cvind")
        guard values.allSatisfy({ $0 >= 1 && $0 <= 100 && $0.rounded() == $0 }) else {
            throw MRIDataError.unreadableFile(path: path, reason: "`cvind` holds values that are not fold numbers")
        }
        return values.map { Int($0) }
    }

    func load(imageSize: Int, options: LoadOptions) throws -> MRIDataset {
        var folds: [Int]?
        if let foldIndexPath {
            let index = try Self.readFoldIndex(foldIndexPath)
            if let last = ids.last, last > index.count {
                throw MRIDataError.unreadableFile(
                    path: foldIndexPath, reason: "it lists \(index.count) slices but \(path(of: last)) exists")
            }
            folds = ids.map { index[$0 - 1] }
        } else if options.verbose {
            print("robust-mri: warning: no cvind.mat in \(folder); the dataset has no folds")
        }
        var labels = [Int](repeating: 0, count: ids.count)
        var patients = [String](repeating: "", count: ids.count)
        // One thread: libhdf5 is not thread-safe.
        let (images, masks) = try DatasetLoader.assemble(
            count: ids.count, imageSize: imageSize, threads: 1, withMasks: true
        ) { i, _ in
            let file = path(of: ids[i])
            let mat = try MATFile(path: file)
            let (_, labelValues) = try mat.readDoubles("cjdata/label")
            guard labelValues.count == 1, let tumourClass = TumourClass(figshareLabel: Int(labelValues[0])),
                  Double(Int(labelValues[0])) == labelValues[0] else {
                throw MRIDataError.invalidLabel(path: file, label: labelValues.map { "\($0)" }.joined(separator: " "))
            }
            labels[i] = tumourClass.rawValue
            patients[i] = try mat.readString("cjdata/PID")
            let image = try mat.readMatrix("cjdata/image")
            let pixels = Preprocessing.preprocessed(pixels: image.values, width: image.columns, height: image.rows, size: imageSize)
            var mask: [Float]?
            if let stored = try? mat.readMatrix("cjdata/tumorMask"), stored.rows == image.rows, stored.columns == image.columns {
                mask = Preprocessing.preprocessedMask(stored.values.map { $0 > 0 ? 1 : 0 },
                                                      width: stored.columns, height: stored.rows, size: imageSize)
            }
            return DatasetLoader.Sample(image: pixels, mask: mask)
        }
        return MRIDataset(images: images, labels: labels, folds: folds, patientIDs: patients, masks: masks,
                          sourceIDs: ids, sourceDescription: "figshare .mat release \(folder) (\(ids.count) slices)")
    }
}
