import MRIData
import RobustTraining

/// A loaded dataset with its split, shared by every run that uses the same data settings.
public struct ExperimentData: Sendable {
    public let dataset: MRIDataset
    public let split: DataSplit
    public let testFold: Int

    /// Loads (through the cache) and splits the data of `settings`; the loader's warnings go to standard error.
    public static func load(_ settings: DataSettings, threads: Int = 2, verbose: Bool = true) throws -> ExperimentData {
        let options = LoadOptions(threads: threads, verbose: verbose, skipUnreadable: settings.skipUnreadable ?? false)
        let source = try settings.path.map(DataSource.detect(path:)) ?? .phantom(settings.phantom)
        let dataset = try DatasetLoader.load(source, imageSize: settings.imageSize,
                                             cacheDirectory: settings.path == nil ? nil : settings.cacheDirectory, options: options)
        let folds = dataset.availableFolds
        let testFold = settings.testFold ?? (folds.contains(4) ? 4 : folds.last ?? 1)
        let split = try DataSplit.byFolds(dataset, testFold: testFold, validation: settings.validation, seed: settings.splitSeed)
        return ExperimentData(dataset: dataset, split: split, testFold: testFold)
    }

    /// The sets of one run: noise drawn from the run's seed.
    public func trainingData(_ settings: RunSettings) -> TrainingData {
        DataPreparation.trainingData(dataset: dataset, split: split, noise: settings.data.noise,
                                     testNoiseFractions: settings.data.testNoiseFractions, seed: settings.training.seed,
                                     threads: settings.training.threads)
    }

    /// One line on the sets' sizes and class counts.
    public var summary: String {
        func counts(_ indices: [Int]) -> String { MRIDataset.describeCounts(dataset.classCounts(at: indices)) }
        return "\(dataset.count) images at \(dataset.imageSize) px; test fold \(testFold): \(split.test.count) (\(counts(split.test))); "
            + "train \(split.train.count) (\(counts(split.train))); validation \(split.validation.count) (\(counts(split.validation)))"
    }
}
