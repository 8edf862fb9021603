import Foundation
import Tensor

/// Where a dataset comes from. `detect(path:)` tells the on-disk layouts apart:
///
/// - `.figshareMat`: a folder of figshare `<id>.mat` files (MATLAB v7.3), usually with `cvind.mat`;
/// - `.manifest`: a folder with `manifest.csv` (`id,label,class,fold,file,...`) and JPEG/PNG images,
///   optionally `borders.csv` with tumour outlines (as /work/shared/data/figshare-jpg);
/// - `.classFolders`: `glioma/ meningioma/ pituitary/` folders of images, optionally under
///   `Training/` and `Testing/`;
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
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
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
    /// Threads used to decode images (JPEG/PNG); `.mat` files are read on one thread (libhdf5 is serial).
    public var threads: Int
    /// Class-folder layout: skip `notumor` / `no_tumor` folders with a warning (true) or refuse them (false).
    public var skipNoTumourFolders: Bool
    /// Print progress and cache messages to standard output.
    public var verbose: Bool

    public init(threads: Int = 2, skipNoTumourFolders: Bool = true, verbose: Bool = true) {
        self.threads = threads
        self.skipNoTumourFolders = skipNoTumourFolders
        self.verbose = verbose
    }
}

/// A reader of one on-disk layout: lists its input files (for the cache key), then decodes them.
protocol DatasetReader {
    /// Every file the reader will read (absolute paths); their sizes and times key the cache.
    func inputFiles() -> [String]
    /// Decodes and preprocesses everything to `imageSize`.
    func load(imageSize: Int, options: LoadOptions) throws -> MRIDataset
}

/// The one entry point for datasets: detect or name a source, load it at a size, through the cache.
public enum DatasetLoader {
    /// Bumped whenever decoding or preprocessing changes, so old caches are not reused.
    public static let version = 1

    /// Loads `source` preprocessed to `imageSize` x `imageSize` (see `Preprocessing`).
    ///
    /// With a `cacheDirectory` (default `DatasetCache.defaultDirectory`), a previous load of the same files
    /// at the same size is read back instead of decoding again; pass nil to bypass the cache.
    public static func load(_ source: DataSource, imageSize: Int,
                            cacheDirectory: String? = DatasetCache.defaultDirectory,
                            options: LoadOptions = LoadOptions()) throws -> MRIDataset {
        guard imageSize >= 8 && imageSize <= 4096 else {
            throw MRIDataError.invalidSetting(name: "imageSize", reason: "\(imageSize) is outside 8...4096 pixels")
        }
        let reader: DatasetReader
        let root: String
        switch source {
        case .phantom(var configuration):
            configuration.imageSize = imageSize
            return try PhantomGenerator(configuration).generate()
        case .figshareMat(let path):
            root = path
            reader = try FigshareMatReader(folder: path)
        case .manifest(let path):
            root = path
            reader = try ManifestReader(folder: path)
        case .classFolders(let path):
            root = path
            reader = try ClassFolderReader(folder: path, skipNoTumour: options.skipNoTumourFolders, verbose: options.verbose)
        }
        guard let cacheDirectory else { return try reader.load(imageSize: imageSize, options: options) }
        let cache = DatasetCache(directory: cacheDirectory, verbose: options.verbose)
        let key = DatasetCache.key(kind: source.kind, root: root, files: reader.inputFiles(),
                                   imageSize: imageSize, loaderVersion: version)
        if let cached = cache.read(key: key) { return cached }
        let dataset = try reader.load(imageSize: imageSize, options: options)
        do {
            try cache.write(dataset, key: key)
        } catch {
            if options.verbose { print("robust-mri: not caching the dataset: \(error)") }
        }
        return dataset
    }

    /// Detects the layout at `path` and loads it (see `load(_:imageSize:cacheDirectory:options:)`).
    public static func load(path: String, imageSize: Int,
                            cacheDirectory: String? = DatasetCache.defaultDirectory,
                            options: LoadOptions = LoadOptions()) throws -> MRIDataset {
        try load(DataSource.detect(path: path), imageSize: imageSize, cacheDirectory: cacheDirectory, options: options)
    }

    /// One preprocessed sample: image S*S in [0, 1], and its mask S*S (0/1) when known.
    struct Sample {
        var image: [Float]
        var mask: [Float]?
    }

    /// Runs `decode(i, decoder)` for i in 0..<count on `threads` threads (each with its own decoder) and
    /// stacks the results into images [N, 1, S, S] and masks [N, 1, S, S] (nil unless `withMasks`;
    /// a sample without a mask gets zeros). The error of the lowest failing index is thrown.
    static func assemble(count: Int, imageSize: Int, threads: Int, withMasks: Bool,
                         decode: (Int, ImageDecoder) throws -> Sample) throws -> (images: Tensor, masks: Tensor?) {
        let pixels = imageSize * imageSize
        var images = [Float](repeating: 0, count: count * pixels)
        var masks = [Float](repeating: 0, count: withMasks ? count * pixels : 0)
        let chunks = Swift.max(1, threads)
        var failures = [(index: Int, error: Error)?](repeating: nil, count: chunks)
        images.withUnsafeMutableBufferPointer { imageBuffer in
            masks.withUnsafeMutableBufferPointer { maskBuffer in
                failures.withUnsafeMutableBufferPointer { failureBuffer in
                    let shared = UncheckedSendable((imageBuffer, maskBuffer, failureBuffer))
                    Parallel.forEachChunk(count: count, chunks: chunks) { chunk, range in
                        let (imageOut, maskOut, failureOut) = shared.value
                        let decoder = ImageDecoder()
                        for i in range {
                            do {
                                let sample = try decode(i, decoder)
                                precondition(sample.image.count == pixels, "assemble: sample \(i) has \(sample.image.count) pixels, expected \(pixels)")
                                for j in 0..<pixels { imageOut[i * pixels + j] = sample.image[j] }
                                if withMasks, let mask = sample.mask {
                                    for j in 0..<pixels { maskOut[i * pixels + j] = mask[j] }
                                }
                            } catch {
                                failureOut[chunk] = (i, error)
                                return
                            }
                        }
                    }
                }
            }
        }
        if let first = failures.compactMap({ $0 }).min(by: { $0.index < $1.index }) { throw first.error }
        let shape = [count, 1, imageSize, imageSize]
        return (Tensor(shape: shape, scalars: images), withMasks ? Tensor(shape: shape, scalars: masks) : nil)
    }
}
