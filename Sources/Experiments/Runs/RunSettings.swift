import MRIData
import RobustTraining

/// Where the images come from and how they are split and corrupted.
public struct DataSettings: Codable, Sendable, Equatable {
    /// A dataset folder (figshare `.mat` release, manifest + images, or class folders); nil = phantoms.
    public var path: String?
    /// The image side in pixels after preprocessing: the run's one image size. The phantom generator (`phantom`)
    /// and the CNN (`RunSettings.training`) are given it from here.
    public var imageSize: Int { didSet { phantomSettings.imageSize = imageSize } }
    /// The phantom generator's settings (used when `path` is nil) at `imageSize`: their `imageSize` is always
    /// this data's, and one set on them is ignored (set `imageSize`).
    public var phantom: PhantomConfiguration {
        get { phantomSettings }
        set {
            phantomSettings = newValue
            phantomSettings.imageSize = imageSize
        }
    }
    /// `phantom`, whose size follows `imageSize` (config.json shows it there too; it is not read back).
    private var phantomSettings: PhantomConfiguration
    /// The test fold; nil = the authors' fold 4 when the data has it, else its last fold. Data without folds
    /// (class folders without Training/Testing, a manifest without a `fold` column, a .mat folder without
    /// cvind.mat) takes none: its test set is `testFraction` of it.
    public var testFold: Int?
    /// For data without folds: the share of each class's patients (of its images when patient IDs are unknown)
    /// held out, seeded by `splitSeed`, as the test set (`DataSplit.holdout`); nil = `DataSettings.defaultTestFraction`.
    public var testFraction: Double?
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
                reading: ImageReading? = nil, testFraction: Double? = nil) {
        self.path = path
        self.testFraction = testFraction
        self.imageSize = imageSize
        self.phantomSettings = phantom
        self.phantomSettings.imageSize = imageSize
        self.testFold = testFold
        self.validation = validation
        self.splitSeed = splitSeed
        self.noise = noise
        self.testNoiseFractions = testNoiseFractions
        self.cacheDirectory = cacheDirectory
        self.skipUnreadable = skipUnreadable
        self.reading = reading
    }

    private enum CodingKeys: String, CodingKey {
        case path, phantomSettings = "phantom", imageSize, testFold, validation, splitSeed, noise, testNoiseFractions
        case cacheDirectory, skipUnreadable, reading, testFraction
    }

    /// Reads settings written with a phantom size of their own (every file before the size was stored once):
    /// the data's `imageSize` is the one that counts.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(path: try c.decodeIfPresent(String.self, forKey: .path),
                  phantom: try c.decode(PhantomConfiguration.self, forKey: .phantomSettings),
                  imageSize: try c.decode(Int.self, forKey: .imageSize), testFold: try c.decodeIfPresent(Int.self, forKey: .testFold),
                  validation: try c.decode(DataSplit.ValidationRule.self, forKey: .validation),
                  splitSeed: try c.decode(UInt64.self, forKey: .splitSeed), noise: try c.decode(NoiseModel.self, forKey: .noise),
                  testNoiseFractions: try c.decode([Double].self, forKey: .testNoiseFractions),
                  cacheDirectory: try c.decodeIfPresent(String.self, forKey: .cacheDirectory),
                  skipUnreadable: try c.decodeIfPresent(Bool.self, forKey: .skipUnreadable),
                  reading: try c.decodeIfPresent(ImageReading.self, forKey: .reading),
                  testFraction: try c.decodeIfPresent(Double.self, forKey: .testFraction))
    }

    /// The test share of data without folds when `testFraction` is nil: a fifth, as in five-fold splits.
    public static let defaultTestFraction = 0.2

    /// `reading`, or the default when absent.
    public var imageReading: ImageReading { reading ?? ImageReading() }

    /// A short description of the source for tables and reports.
    public var sourceName: String { path ?? "synthetic phantoms (seed \(phantom.seed), \(phantom.count) slices)" }
    public var isSynthetic: Bool { path == nil }
}

/// Everything that decides one run: saved as `config.json` beside its results. The image size is the data's:
/// `training.model` is always at `data.imageSize`.
public struct RunSettings: Codable, Sendable, Equatable {
    public var data: DataSettings { didSet { trainingSettings.model.imageSize = data.imageSize } }
    /// The training configuration, its CNN at `data.imageSize` (a size set on `training.model` is ignored).
    public var training: TrainingConfiguration {
        get { trainingSettings }
        set {
            trainingSettings = newValue
            trainingSettings.model.imageSize = data.imageSize
        }
    }
    /// `training`, whose model's size follows `data.imageSize` (config.json shows it there too; it is not read back).
    private var trainingSettings: TrainingConfiguration

    public init(data: DataSettings, training: TrainingConfiguration) {
        self.data = data
        self.trainingSettings = training
        self.trainingSettings.model.imageSize = data.imageSize
    }

    private enum CodingKeys: String, CodingKey { case data, trainingSettings = "training" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(data: try c.decode(DataSettings.self, forKey: .data),
                  training: try c.decode(TrainingConfiguration.self, forKey: .trainingSettings))
    }
}
