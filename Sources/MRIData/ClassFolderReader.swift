import Foundation

/// Reads a class-per-folder tree, as in the Kaggle brain tumour MRI sets:
///
///     root/glioma/*.jpg, root/meningioma/*.jpg, root/pituitary/*.jpg
///     root/Training/glioma_tumor/*.jpg, root/Testing/glioma_tumor/*.jpg, ...
///
/// Class folder names are matched case-insensitively, with an optional `_tumor` / `_tumour` suffix.
/// `notumor` / `no_tumor` folders are skipped with a printed warning (or refused, see `LoadOptions`).
/// Split folders become folds: `Training`/`Train` = fold 1, `Testing`/`Test` = fold 2,
/// `Validation`/`Val` = fold 3 (so `DataSplit.byFolds(testFold: 2)` trains on Training, tests on Testing).
/// Without split folders the dataset has no folds. Images are `.jpg`, `.jpeg` or `.png`, read in
/// sorted path order; `sourceIDs` are running indices in that order.
struct ClassFolderReader: DatasetReader {
    struct Entry {
        var path: String
        var label: Int
        var fold: Int?
    }

    let folder: String
    let entries: [Entry]

    static let splitFolds: [String: Int] = ["training": 1, "train": 1, "testing": 2, "test": 2, "validation": 3, "val": 3]
    static let noTumourNames: Set<String> = ["notumor", "no_tumor", "notumour", "no_tumour", "no tumor", "normal"]
    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    static func subfolders(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }

    /// True when `path` has class folders, directly or under split folders.
    static func looksLikeClassFolders(_ path: String) -> Bool {
        subfolders(path).contains { name in
            TumourClass(folderName: name) != nil
                || (splitFolds[name.lowercased()] != nil
                    && subfolders((path as NSString).appendingPathComponent(name)).contains { TumourClass(folderName: $0) != nil })
        }
    }

    init(folder: String, skipNoTumour: Bool, verbose: Bool) throws {
        self.folder = folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MRIDataError.missingPath(folder)
        }
        let top = Self.subfolders(folder)
        let splits = top.filter { Self.splitFolds[$0.lowercased()] != nil }
        // (folder, fold) pairs holding class folders.
        let groups: [(path: String, fold: Int?)] = splits.isEmpty
            ? [(folder, nil)]
            : splits.map { ((folder as NSString).appendingPathComponent($0), Self.splitFolds[$0.lowercased()]) }
        var entries: [Entry] = []
        for group in groups {
            for name in Self.subfolders(group.path) {
                let classPath = (group.path as NSString).appendingPathComponent(name)
                if Self.noTumourNames.contains(name.lowercased()) {
                    guard skipNoTumour else { throw MRIDataError.unknownClassFolder(classPath + " (a no-tumour class; the task has three tumour classes)") }
                    if verbose { print("robust-mri: warning: skipping \(classPath): no-tumour images are not one of the three classes") }
                    continue
                }
                guard let tumourClass = TumourClass(folderName: name) else {
                    if !splits.isEmpty || Self.splitFolds[name.lowercased()] == nil {
                        throw MRIDataError.unknownClassFolder(classPath)
                    }
                    continue
                }
                let files = ((try? FileManager.default.contentsOfDirectory(atPath: classPath)) ?? [])
                    .filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
                    .sorted()
                guard !files.isEmpty else { throw MRIDataError.emptyClassFolder(classPath) }
                entries += files.map {
                    Entry(path: (classPath as NSString).appendingPathComponent($0), label: tumourClass.rawValue, fold: group.fold)
                }
            }
        }
        guard !entries.isEmpty else { throw MRIDataError.noImages(folder) }
        self.entries = entries
    }

    func inputFiles() -> [String] { entries.map(\.path) }

    func load(imageSize: Int, options: LoadOptions) throws -> MRIDataset {
        let (images, _) = try DatasetLoader.assemble(
            count: entries.count, imageSize: imageSize, threads: options.threads, withMasks: false
        ) { i, decoder in
            let image = try decoder.decodeFile(entries[i].path)
            return DatasetLoader.Sample(
                image: Preprocessing.preprocessed(pixels: image.pixels, width: image.width, height: image.height, size: imageSize),
                mask: nil)
        }
        let hasFolds = entries.allSatisfy { $0.fold != nil }
        return MRIDataset(images: images, labels: entries.map(\.label),
                          folds: hasFolds ? entries.map { $0.fold ?? 0 } : nil,
                          sourceDescription: "class folders \(folder) (\(entries.count) images)")
    }
}
