import MRIData
import RobustTraining

/// Where the images come from and how they are split and corrupted.
public struct DataSettings: Codable, Sendable, Equatable {
    /// A dataset folder (figshare `.mat` release, manifest + images, or class folders); nil = phantoms.
    public var path: String?
    public var phantom: PhantomConfiguration
    public var imageSize: Int
    /// The test fold; nil = the authors' fold 4 when the data has it, else its last fold.
    public var testFold: Int?
    public var validation: DataSplit.ValidationRule
    /// Seed of the split (validation draw); fixed across trials so every method sees the same sets.
    public var splitSeed: UInt64
    public var noise: NoiseModel
    /// Test-noise fractions rho at which every model is evaluated.
    public var testNoiseFractions: [Double]
    /// Where decoded datasets are cached; nil = no cache.
    public var cacheDirectory: String?
    /// true: leave out files that cannot be decoded, with a warning naming them; nil or false: the
    /// first one stops the load (nil keeps the settings of earlier runs unchanged).
    public var skipUnreadable: Bool?
    /// How images are read: the intensity mapping (`--intensity-clip`) and the NIfTI slices (`--nifti-slices`).
    /// nil (settings written before it existed) means the default, `ImageReading()`.
    public var reading: ImageReading?

    public init(path: String? = nil, phantom: PhantomConfiguration = PhantomConfiguration(), imageSize: Int = 128,
                testFold: Int? = nil, validation: DataSplit.ValidationRule = DataSplit.ValidationRule(),
                splitSeed: UInt64 = 0, noise: NoiseModel = .gaussian(), testNoiseFractions: [Double] = [0],
                cacheDirectory: String? = DatasetCache.defaultDirectory, skipUnreadable: Bool? = nil,
                reading: ImageReading? = nil) {
        self.path = path
        self.phantom = phantom
        self.imageSize = imageSize
        self.testFold = testFold
        self.validation = validation
        self.splitSeed = splitSeed
        self.noise = noise
        self.testNoiseFractions = testNoiseFractions
        self.cacheDirectory = cacheDirectory
        self.skipUnreadable = skipUnreadable
        self.reading = reading
    }

    /// `reading`, or the default when absent.
    public var imageReading: ImageReading { reading ?? ImageReading() }

    /// A short description of the source for tables and reports.
    public var sourceName: String { path ?? "synthetic phantoms (seed \(phantom.seed), \(phantom.count) slices)" }
    public var isSynthetic: Bool { path == nil }
}

/// Everything that decides one run: saved as `config.json` beside its results.
public struct RunSettings: Codable, Sendable, Equatable {
    public var data: DataSettings
    public var training: TrainingConfiguration

    public init(data: DataSettings, training: TrainingConfiguration) {
        self.data = data
        self.training = training
    }
}
