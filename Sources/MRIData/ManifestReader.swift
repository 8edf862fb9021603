import Foundation

/// Reads a folder holding `manifest.csv` and its images (the layout of /work/shared/data/figshare-jpg).
///
/// `manifest.csv` columns (case-insensitive, any order, extra columns ignored):
/// - `file`: image path relative to the folder (JPEG or PNG, any size, grey or colour; DICOM; NIfTI-1/2
///   `.nii` or `.nii.gz`);
/// - `label`: figshare coding 1 meningioma, 2 glioma, 3 pituitary; or, without `label`, `class`
///   holding a class name;
/// - `id` (optional): the figshare id, used as `sourceIDs` and to join `borders.csv` (default: row index);
/// - `fold` (optional): the cross-validation fold; `patient` (optional): a patient ID;
/// - `slice` (optional): for a NIfTI file, the axial slice (0-based index k along the file's third voxel
///   axis, as stored: no reorientation); needed unless the volume has one slice or `--nifti-slices all`
///   reads every slice (which ignores the column); `volume` (optional): the volume of a 4D file (0-based).
///   Cells of other files stay empty.
///
/// With `ImageReading.niftiSlices == .all` a NIfTI row stands for every slice of its volume: the slices
/// keep the row's label, fold and patient (without a `patient` column, each file is its own patient, so
/// that slices of one volume never land in both the training and the validation set); their `sourceIDs`
/// are then running indices over all slices, and `borders.csv` (whose outlines belong to rows) is refused.
///
/// `borders.csv` (optional): `id,border_xy`, the tumour outline as "x1 y1 x2 y2 ..." in pixels of the
/// image file (x = column); filled by `PolygonFill` at the chosen size to give the masks.
///
/// Rows naming a hidden or metadata file (`images/._7.jpg`, `__MACOSX/...`: see `MetadataFiles`), as a
/// manifest made by listing a copied folder has, are skipped and counted in one warning.
struct ManifestReader: DatasetReader {
    struct Entry {
        var id: Int
        var label: Int
        var fold: Int?
        var patient: String?
        var reference: SliceReference
    }

    let folder: String
    let manifestPath: String
    let bordersPath: String?
    let entries: [Entry]
    let borders: [Int: [(x: Double, y: Double)]]
    let warnings: [String]

    init(folder: String, reading: ImageReading = ImageReading()) throws {
        self.folder = folder
        manifestPath = FilePaths.joining(folder, "manifest.csv")
        let table = try CSVTable(contentsOf: manifestPath)
        let fileColumn = try table.requiredColumn("file")
        let labelColumn = table.column("label")
        let classColumn = table.column("class")
        guard labelColumn != nil || classColumn != nil else {
            throw MRIDataError.malformedCSV(path: manifestPath, line: 1, reason: "needs a `label` or a `class` column")
        }
        let idColumn = table.column("id"), foldColumn = table.column("fold"), patientColumn = table.column("patient")
        let sliceColumn = reading.niftiSlices == .all ? nil : table.column("slice"), volumeColumn = table.column("volume")
        var entries: [Entry] = []
        var entryFiles: [String] = []  // each entry's `file` cell
        var expanded = false
        var metadata: [String] = []
        for row in table.rows.indices {
            let relative = table.rows[row][fileColumn].trimmingCharacters(in: .whitespaces)
            if MetadataFiles.isMetadata(path: relative) {
                metadata.append(relative)
                continue
            }
            let where_ = "\(manifestPath) line \(table.lineNumbers[row])"
            let tumourClass: TumourClass?
            if let labelColumn {
                let text = table.rows[row][labelColumn].trimmingCharacters(in: .whitespaces)
                tumourClass = Int(text).flatMap(TumourClass.init(figshareLabel:))
                if tumourClass == nil { throw MRIDataError.invalidLabel(path: where_, label: text) }
            } else if let classColumn {
                let text = table.rows[row][classColumn].trimmingCharacters(in: .whitespaces)
                tumourClass = TumourClass(folderName: text)
                if tumourClass == nil { throw MRIDataError.invalidLabel(path: where_, label: text) }
            } else {
                tumourClass = nil
            }
            let path = FilePaths.joining(folder, relative)
            guard FileManager.default.fileExists(atPath: path) else {
                throw MRIDataError.missingFile(path: path, namedIn: manifestPath)
            }
            let slices = try SliceReference.slices(
                of: path, slice: try table.optionalInteger(row: row, column: sliceColumn),
                volume: try table.optionalInteger(row: row, column: volumeColumn), mode: reading.niftiSlices, context: where_)
            let isVolume = reading.niftiSlices == .all && ImageFileFormat(path: path) == .nifti
            expanded = expanded || isVolume
            let id = try idColumn.map { try table.integer(row: row, column: $0) } ?? row
            let fold = try foldColumn.map { try table.integer(row: row, column: $0) }
            let patient = patientColumn.map { table.rows[row][$0] }
            entries += slices.map {
                Entry(id: id, label: tumourClass?.rawValue ?? 0, fold: fold, patient: patient, reference: $0)
            }
            entryFiles += slices.map { _ in relative }
        }
        guard !entries.isEmpty else { throw MRIDataError.noImages(manifestPath) }
        if expanded {
            // Rows of every slice of a volume: ids by slice, and a patient for every row (its file, when none is named).
            for i in entries.indices {
                entries[i].id = i
                if entries[i].patient == nil { entries[i].patient = entryFiles[i] }
            }
        }
        self.entries = entries
        warnings = MetadataFiles.warning(skipped: metadata, in: manifestPath).map { [$0] } ?? []

        let bordersFile = FilePaths.joining(folder, "borders.csv")
        if FileManager.default.fileExists(atPath: bordersFile) {
            guard !expanded else {
                throw MRIDataError.invalidSetting(name: "--nifti-slices all", reason: "\(bordersFile) holds outlines of manifest rows, "
                    + "but with every slice of a volume read a row is no longer one image; move borders.csv away, or name "
                    + "each row's slice in a `slice` column")
            }
            bordersPath = bordersFile
            let bordersTable = try CSVTable(contentsOf: bordersFile)
            let id = try bordersTable.requiredColumn("id")
            let xy = try bordersTable.requiredColumn("border_xy")
            var borders: [Int: [(x: Double, y: Double)]] = [:]
            for row in bordersTable.rows.indices {
                guard let points = PolygonFill.points(fromBorder: bordersTable.rows[row][xy]) else {
                    throw MRIDataError.malformedCSV(path: bordersFile, line: bordersTable.lineNumbers[row],
                                                    reason: "`border_xy` is not an even list of finite numbers")
                }
                borders[try bordersTable.integer(row: row, column: id)] = points
            }
            self.borders = borders
        } else {
            bordersPath = nil
            borders = [:]
        }
    }

    func inputFiles() -> [String] {
        var seen = Set<String>()
        return [manifestPath] + (bordersPath.map { [$0] } ?? []) + entries.map(\.reference.path).filter { seen.insert($0).inserted }
    }

    func load(imageSize: Int, options: LoadOptions) throws -> (dataset: MRIDataset, report: DecodeReport) {
        let withMasks = !borders.isEmpty
        let (images, masks, report) = DatasetLoader.assemble(
            count: entries.count, imageSize: imageSize, threads: options.threads, withMasks: withMasks,
            skipUnreadable: options.skipUnreadable
        ) { i, decoder in
            let entry = entries[i]
            let image = try decoder.decode(entry.reference)
            let pixels = Preprocessing.preprocessed(image, size: imageSize, intensity: options.reading.intensity)
            var mask: [Float]?
            if let outline = borders[entry.id] {
                // Outline in file pixels -> padded square -> S x S.
                let side = Double(Swift.max(image.width, image.height))
                let left = Double((Int(side) - image.width) / 2), top = Double((Int(side) - image.height) / 2)
                let scale = Double(imageSize) / side
                mask = PolygonFill.mask(points: outline.map { (x: ($0.x + left) * scale, y: ($0.y + top) * scale) },
                                        size: imageSize)
            }
            return DatasetLoader.Sample(image: pixels, mask: mask)
        }
        let hasFolds = entries.allSatisfy { $0.fold != nil }
        let hasPatients = entries.allSatisfy { $0.patient != nil }
        let dataset = MRIDataset(
            images: images, labels: entries.map(\.label),
            folds: hasFolds ? entries.map { $0.fold ?? 0 } : nil,
            patientIDs: hasPatients ? entries.map { $0.patient ?? "" } : nil,
            masks: masks, sourceIDs: entries.map(\.id),
            sourceDescription: "manifest \(manifestPath) (\(entries.count) images)")
        return (dataset, report)
    }
}
