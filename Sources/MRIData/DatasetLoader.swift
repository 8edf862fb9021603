import Foundation
import Tensor

/// Where a dataset comes from. `detect(path:)` tells the on-disk layouts apart:
///
/// - `.figshareMat`: a folder of figshare `<id>.mat` files (MATLAB v7.3), usually with `cvind.mat`;
/// - `.manifest`: a folder with `manifest.csv` (`id,label,class,fold,file,slice,volume,...`) and
///   JPEG/PNG/DICOM/NIfTI files, optionally `borders.csv` with tumour outlines (as /work/shared/data/figshare-jpg);
/// - `.classFolders`: `glioma/ meningioma/ pituitary/` folders of images (JPEG, PNG, DICOM, NIfTI),
///   optionally under `Training/` and `Testing/`;
/// - `.phantom`: synthetic slices from `PhantomGenerator` (no files).
public enum DataSource: Equatable, Sendable {
    case figshareMat(String)
    case manifest(String)
    case classFolders(String)
    case phantom(PhantomConfiguration)

    /// Chooses the layout of the folder at `path` (or a `manifest.csv` / `.mat` file's folder).
    public static func detect(path: String) throws -> DataSource {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else { throw MRIDataError.missingPath(path) }
        let folder = isDirectory.boolValue ? path : FilePaths.folder(of: path)
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        let names = (try? fileManager.contentsOfDirectory(atPath: absolute)) ?? []
        if names.contains("manifest.csv") { return .manifest(absolute) }
        if names.contains("cvind.mat") || names.contains(where: { FigshareMatReader.figshareID(fileName: $0) != nil }) {
            return .figshareMat(absolute)
        }
        if ClassFolderReader.looksLikeClassFolders(absolute) { return .classFolders(absolute) }
        throw MRIDataError.unrecognisedSource(absolute)
    }

    /// A short name of the layout, part of the cache key.
    public var kind: String {
        switch self {
        case .figshareMat: return "figshare-mat"
        case .manifest: return "manifest"
        case .classFolders: return "class-folders"
        case .phantom: return "phantom"
        }
    }
}

/// Options of `DatasetLoader.load` beyond the source and the size.
public struct LoadOptions: Codable, Equatable, Sendable {
    /// Threads used to decode images (JPEG/PNG/DICOM/NIfTI); `.mat` files are read on one thread (libhdf5 is serial).
    public var threads: Int
    /// Class-folder layout: skip `notumor` / `no_tumor` folders with a warning (true) or refuse them (false).
    public var skipNoTumourFolders: Bool
    /// Print progress and cache messages to standard output (warnings go to standard error either way).
    public var verbose: Bool
    /// Leave out the files that cannot be decoded, with one warning naming them (false: the first one
    /// stops the load with its error).
    public var skipUnreadable: Bool
    /// Intensity mapping and NIfTI slice choice (part of the cache key).
    public var reading: ImageReading

    public init(threads: Int = 2, skipNoTumourFolders: Bool = true, verbose: Bool = true, skipUnreadable: Bool = false,
                reading: ImageReading = ImageReading()) {
        self.threads = threads
        self.skipNoTumourFolders = skipNoTumourFolders
        self.verbose = verbose
        self.skipUnreadable = skipUnreadable
        self.reading = reading
    }
}

/// A reader of one on-disk layout: lists its input files (for the cache key), then decodes them.
protocol DatasetReader {
    /// Every file the reader will read (absolute paths); their sizes and times key the cache.
    func inputFiles() -> [String]
    /// What listing the files met and worked around (skipped metadata files, a missing fold index, ...).
    var warnings: [String] { get }
    /// Decodes and preprocesses everything to `imageSize`: one item per listed entry (an unreadable
    /// one left as zeros and reported in the `DecodeReport`, when `options.skipUnreadable`).
    func load(imageSize: Int, options: LoadOptions) throws -> (dataset: MRIDataset, report: DecodeReport)
}

/// What decoding met besides pixels: items it could not read, and warnings about items it read anyway.
struct DecodeReport {
    /// Index and error of every unreadable item, in index order.
    var unreadable: [(index: Int, error: Error)] = []
    var warnings: [String] = []
}

/// The one entry point for datasets: detect or name a source, load it at a size, through the cache.
public enum DatasetLoader {
    /// Bumped whenever decoding or preprocessing changes, so old caches are not reused.
    /// 2: PNGs read without gamma conversion, CMYK JPEGs, JPEG warnings, non-finite .mat values.
    public static let version = 2

    /// The image sides, in pixels, the loader preprocesses to (`--image-size`). The phantom generator accepts
    /// a narrower range of its own (`PhantomConfiguration.validate()`) and a CNN a smallest size of its own
    /// (`CNNConfiguration.minimumImageSize`).
    public static let imageSizes: ClosedRange<Int> = 8...4096

    /// Loads `source` preprocessed to `imageSize` x `imageSize` (see `Preprocessing`); warnings go to
    /// standard error (see `loadReporting`).
    public static func load(_ source: DataSource, imageSize: Int,
                            cacheDirectory: String? = DatasetCache.defaultDirectory,
                            options: LoadOptions = LoadOptions()) throws -> MRIDataset {
        let (dataset, warnings) = try loadReporting(source, imageSize: imageSize, cacheDirectory: cacheDirectory, options: options)
        for warning in warnings { warn(warning) }
        return dataset
    }

    /// Detects the layout at `path` and loads it (see `load(_:imageSize:cacheDirectory:options:)`).
    public static func load(path: String, imageSize: Int,
                            cacheDirectory: String? = DatasetCache.defaultDirectory,
                            options: LoadOptions = LoadOptions()) throws -> MRIDataset {
        try load(DataSource.detect(path: path), imageSize: imageSize, cacheDirectory: cacheDirectory, options: options)
    }

    /// Writes `robust-mri: warning: <message>` to standard error (never to standard output, which
    /// may carry JSON).
    public static func warn(_ message: String) {
        FileHandle.standardError.write(Data("robust-mri: warning: \(message)\n".utf8))
    }

    /// Loads `source` and returns the problems the load worked around, one message each, instead of
    /// printing them: skipped metadata files, files read despite a fault, unreadable files left out.
    ///
    /// With a `cacheDirectory` (default `DatasetCache.defaultDirectory`), a previous load of the same files
    /// at the same size is read back instead of decoding again; pass nil to bypass the cache. A load
    /// whose decoding met problems is not cached, so its warnings come back on every run until the
    /// files are fixed.
    public static func loadReporting(_ source: DataSource, imageSize: Int,
                                     cacheDirectory: String? = DatasetCache.defaultDirectory,
                                     options: LoadOptions = LoadOptions()) throws -> (dataset: MRIDataset, warnings: [String]) {
        guard imageSizes.contains(imageSize) else {
            throw MRIDataError.invalidSetting(name: "imageSize", reason: "\(imageSize) is outside \(imageSizes) pixels")
        }
        if let problem = options.reading.intensity.problem { throw MRIDataError.invalidSetting(name: "intensity", reason: problem) }
        let reader: DatasetReader
        let root: String
        switch source {
        case .phantom(var configuration):
            configuration.imageSize = imageSize
            return (try PhantomGenerator(configuration).generate(), [])
        case .figshareMat(let path):
            root = path
            reader = try FigshareMatReader(folder: path)
        case .manifest(let path):
            root = path
            reader = try ManifestReader(folder: path, reading: options.reading)
        case .classFolders(let path):
            root = path
            reader = try ClassFolderReader(folder: path, skipNoTumour: options.skipNoTumourFolders,
                                           niftiSlices: options.reading.niftiSlices)
        }
        let cache = cacheDirectory.map { DatasetCache(directory: $0, verbose: options.verbose) }
        let key = DatasetCache.key(kind: source.kind, root: root, files: reader.inputFiles(),
                                   imageSize: imageSize, loaderVersion: version, reading: options.reading)
        if let cached = cache?.read(key: key) { return (cached, reader.warnings) }
        let (dataset, problems) = try decoded(reader, imageSize: imageSize, options: options)
        if let cache, problems.isEmpty {
            do {
                try cache.write(dataset, key: key)
            } catch {
                if options.verbose { print("robust-mri: not caching the dataset: \(error)") }
            }
        }
        return (dataset, reader.warnings + problems)
    }

    /// The reader's dataset without its unreadable items (or the first one's error, unless
    /// `options.skipUnreadable`), and the decoding warnings.
    static func decoded(_ reader: DatasetReader, imageSize: Int,
                        options: LoadOptions) throws -> (dataset: MRIDataset, warnings: [String]) {
        let (dataset, report) = try reader.load(imageSize: imageSize, options: options)
        guard !report.unreadable.isEmpty else { return (dataset, report.warnings) }
        if !options.skipUnreadable, let first = report.unreadable.first { throw first.error }
        let skipped = Set(report.unreadable.map(\.index))
        let kept = (0..<dataset.count).filter { !skipped.contains($0) }
        guard !kept.isEmpty else { throw report.unreadable[0].error }
        let list = report.unreadable.map { "\($0.error)" }.joined(separator: "\n  ")
        return (dataset.subset(kept),
                report.warnings + ["skipped \(skipped.count) unreadable file(s) of \(dataset.count) (--skip-unreadable):\n  \(list)"])
    }

    /// One preprocessed sample: image S*S in [0, 1], its mask S*S (0/1) when known, and what its
    /// reading worked around.
    struct Sample {
        var image: [Float]
        var mask: [Float]?
        var warnings: [String] = []
    }

    /// Runs `decode(i, decoder)` for i in 0..<count on `threads` threads (each with its own decoder) and
    /// stacks the results into images [N, 1, S, S] and masks [N, 1, S, S] (nil unless `withMasks`;
    /// a sample without a mask gets zeros). A sample that throws is left as zeros and reported; without
    /// `skipUnreadable` its thread stops there (the loader then throws the lowest index's error).
    /// Warnings (the samples' and the decoders') are reported in index order.
    static func assemble(count: Int, imageSize: Int, threads: Int, withMasks: Bool, skipUnreadable: Bool,
                         decode: (Int, ImageDecoder) throws -> Sample) -> (images: Tensor, masks: Tensor?, report: DecodeReport) {
        let pixels = imageSize * imageSize
        var images = [Float](repeating: 0, count: count * pixels)
        var masks = [Float](repeating: 0, count: withMasks ? count * pixels : 0)
        let chunks = Swift.max(1, threads)
        var reports = [DecodeReport](repeating: DecodeReport(), count: chunks)
        images.withUnsafeMutableBufferPointer { imageBuffer in
            masks.withUnsafeMutableBufferPointer { maskBuffer in
                reports.withUnsafeMutableBufferPointer { reportBuffer in
                    let shared = UncheckedSendable((imageBuffer, maskBuffer, reportBuffer))
                    Parallel.forEachChunk(count: count, chunks: chunks) { chunk, range in
                        let (imageOut, maskOut, reportOut) = shared.value
                        let decoder = ImageDecoder()
                        for i in range {
                            defer { reportOut[chunk].warnings += decoder.takeWarnings() }
                            do {
                                let sample = try decode(i, decoder)
                                precondition(sample.image.count == pixels, "assemble: sample \(i) has \(sample.image.count) pixels, expected \(pixels)")
                                for j in 0..<pixels { imageOut[i * pixels + j] = sample.image[j] }
                                if withMasks, let mask = sample.mask {
                                    for j in 0..<pixels { maskOut[i * pixels + j] = mask[j] }
                                }
                                reportOut[chunk].warnings += sample.warnings
                            } catch {
                                reportOut[chunk].unreadable.append((i, error))
                                if !skipUnreadable { return }
                            }
                        }
                    }
                }
            }
        }
        // Chunks cover increasing index ranges, so concatenating them keeps index order.
        let report = DecodeReport(unreadable: reports.flatMap(\.unreadable), warnings: reports.flatMap(\.warnings))
        let shape = [count, 1, imageSize, imageSize]
        return (Tensor(shape: shape, scalars: images), withMasks ? Tensor(shape: shape, scalars: masks) : nil, report)
    }
}
