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
/// Without split folders the dataset has no folds. Images are `.jpg`, `.jpeg`, `.png`, DICOM (`.dcm`,
/// `.dicom`, or no extension with the DICOM marker: see `ImageFileFormat`) and NIfTI (`.nii`, `.nii.gz`),
/// read in sorted path order; `sourceIDs` are running indices in that order. A NIfTI volume of several
/// slices needs `--nifti-slices all` (a folder has no `slice` column to choose one), which reads each of
/// its axial slices in turn; the dataset then has patient IDs, each file being its own patient, so that
/// validation takes whole volumes. Hidden and metadata entries
/// (`._x.jpg` AppleDouble files, `.DS_Store`, `Thumbs.db`, `__MACOSX/`: see `MetadataFiles`) are
/// skipped, and counted in one warning.
struct ClassFolderReader: DatasetReader {
    struct Entry {
        var reference: SliceReference
        var label: Int
        var fold: Int?
    }

    let folder: String
    let niftiSlices: NIfTISlices
    let entries: [Entry]
    let warnings: [String]

    static let splitFolds: [String: Int] = ["training": 1, "train": 1, "testing": 2, "test": 2, "validation": 3, "val": 3]
    static let noTumourNames: Set<String> = ["notumor", "no_tumor", "notumour", "no_tumour", "no tumor", "normal"]

    /// The folders in `path`, sorted, without hidden and metadata ones.
    static func subfolders(_ path: String) -> [String] {
        MetadataFiles.listing(path).names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: FilePaths.joining(path, name), isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
    }

    /// True when `path` has class folders, directly or under split folders.
    static func looksLikeClassFolders(_ path: String) -> Bool {
        subfolders(path).contains { name in
            TumourClass(folderName: name) != nil
                || (splitFolds[name.lowercased()] != nil
                    && subfolders(FilePaths.joining(path, name)).contains { TumourClass(folderName: $0) != nil })
        }
    }

    init(folder: String, skipNoTumour: Bool, niftiSlices: NIfTISlices = .selected) throws {
        self.folder = folder
        self.niftiSlices = niftiSlices
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MRIDataError.missingPath(folder)
        }
        let top = Self.subfolders(folder)
        let splits = top.filter { Self.splitFolds[$0.lowercased()] != nil }
        // (folder, fold) pairs holding class folders.
        let groups: [(path: String, fold: Int?)] = splits.isEmpty
            ? [(folder, nil)]
            : splits.map { (FilePaths.joining(folder, $0), Self.splitFolds[$0.lowercased()]) }
        var entries: [Entry] = []
        var warnings: [String] = []
        var metadata = MetadataFiles.listing(folder).skipped
        for group in groups {
            if group.path != folder { metadata += MetadataFiles.listing(group.path).skipped }
            for name in Self.subfolders(group.path) {
                let classPath = FilePaths.joining(group.path, name)
                if Self.noTumourNames.contains(name.lowercased()) {
                    guard skipNoTumour else { throw MRIDataError.unknownClassFolder(classPath + " (a no-tumour class; the task has three tumour classes)") }
                    warnings.append("skipping \(classPath): no-tumour images are not one of the three classes")
                    continue
                }
                guard let tumourClass = TumourClass(folderName: name) else {
                    if !splits.isEmpty || Self.splitFolds[name.lowercased()] == nil {
                        throw MRIDataError.unknownClassFolder(classPath)
                    }
                    continue
                }
                let listing = MetadataFiles.listing(classPath)
                metadata += listing.skipped
                let files = listing.names.map { FilePaths.joining(classPath, $0) }
                    .filter { ImageFileFormat(path: $0) != nil }
                guard !files.isEmpty else { throw MRIDataError.emptyClassFolder(classPath) }
                for file in files {
                    entries += try SliceReference.slices(of: file, slice: nil, volume: nil, mode: niftiSlices).map {
                        Entry(reference: $0, label: tumourClass.rawValue, fold: group.fold)
                    }
                }
            }
        }
        guard !entries.isEmpty else { throw MRIDataError.noImages(folder) }
        self.entries = entries
        self.warnings = warnings + (MetadataFiles.warning(skipped: metadata, in: folder).map { [$0] } ?? [])
    }

    func inputFiles() -> [String] {
        var seen = Set<String>()
        return entries.map(\.reference.path).filter { seen.insert($0).inserted }
    }

    /// Each entry's file as its patient, when NIfTI volumes are read slice by slice (`--nifti-slices all`).
    var volumePatients: [String]? {
        niftiSlices == .all && entries.contains { $0.reference.slice != nil } ? entries.map(\.reference.path) : nil
    }

    func load(imageSize: Int, options: LoadOptions) throws -> (dataset: MRIDataset, report: DecodeReport) {
        let (images, _, report) = DatasetLoader.assemble(
            count: entries.count, imageSize: imageSize, threads: options.threads, withMasks: false,
            skipUnreadable: options.skipUnreadable
        ) { i, decoder in
            let image = try decoder.decode(entries[i].reference)
            return DatasetLoader.Sample(image: Preprocessing.preprocessed(image, size: imageSize, intensity: options.reading.intensity),
                                        mask: nil)
        }
        let hasFolds = entries.allSatisfy { $0.fold != nil }
        let dataset = MRIDataset(images: images, labels: entries.map(\.label),
                                 folds: hasFolds ? entries.map { $0.fold ?? 0 } : nil, patientIDs: volumePatients,
                                 sourceDescription: "class folders \(folder) (\(entries.count) images)")
        return (dataset, report)
    }
}
