import Foundation
import MRIData
import RobustTraining

/// A loaded dataset with its split, shared by every run that uses the same data settings.
public struct ExperimentData: Sendable {
    public let dataset: MRIDataset
    public let split: DataSplit
    /// The test fold; 0 when the data has no folds and the test set is a held-out share (`heldOutFraction`).
    public let testFold: Int
    /// For data without folds: the share held out as the test set; nil when the test set is a fold.
    public var heldOutFraction: Double? = nil
    /// Whether the images are the built-in synthetic phantoms (no --data).
    public var synthetic = false

    /// Loads (through the cache) and splits the data of `settings`; the loader's warnings go to standard error.
    public static func load(_ settings: DataSettings, threads: Int = 2, verbose: Bool = true) throws -> ExperimentData {
        let options = LoadOptions(threads: threads, verbose: verbose, skipUnreadable: settings.skipUnreadable ?? false,
                                  reading: settings.imageReading)
        let source = try settings.path.map(DataSource.detect(path:)) ?? .phantom(settings.phantom)
        let dataset = try DatasetLoader.load(source, imageSize: settings.imageSize,
                                             cacheDirectory: settings.path == nil ? nil : settings.cacheDirectory, options: options)
        guard dataset.folds != nil else {
            // Data without folds (a researcher's own class folders, say): a seeded, class-stratified share held out.
            if let requested = settings.testFold {
                throw MRIDataError.invalidSetting(
                    name: "--test-fold \(requested)",
                    reason: "the data has no folds (no Training/Testing folders, no `fold` column in its manifest, no cvind.mat); "
                        + "leave --test-fold out, and a seeded, class-stratified share of its patients (--test-fraction, "
                        + "default \(DataSettings.defaultTestFraction)) is the test set")
            }
            let fraction = settings.testFraction ?? DataSettings.defaultTestFraction
            let split = try DataSplit.holdout(dataset, testFraction: fraction, validation: settings.validation, seed: settings.splitSeed)
            return ExperimentData(dataset: dataset, split: split, testFold: 0, heldOutFraction: fraction, synthetic: settings.path == nil)
        }
        let folds = dataset.availableFolds
        let testFold = settings.testFold ?? (folds.contains(4) ? 4 : folds.last ?? 1)
        let split = try DataSplit.byFolds(dataset, testFold: testFold, validation: settings.validation, seed: settings.splitSeed)
        return ExperimentData(dataset: dataset, split: split, testFold: testFold, synthetic: settings.path == nil)
    }

    /// The sets of one run: noise drawn from the run's seed. Throws, naming the option to change, when
    /// the validation set is empty (training selects epochs and scores influence on it) or an N2V run's
    /// patches are too small for its U-Net.
    public func trainingData(_ settings: RunSettings) throws -> TrainingData {
        try requireValidationSet(settings.data.validation)
        if settings.training.method == .n2v { try requireNoise2VoidPatchSide(settings.training.noise2void) }
        return DataPreparation.trainingData(dataset: dataset, split: split, noise: settings.data.noise,
                                            testNoiseFractions: settings.data.testNoiseFractions, seed: settings.training.seed,
                                            threads: settings.training.threads)
    }

    /// An error naming --validation-patients (patient IDs known) or --validation-fraction when `rule`
    /// left the validation set empty.
    func requireValidationSet(_ rule: DataSplit.ValidationRule) throws {
        guard split.validation.isEmpty else { return }
        let largestClass = dataset.classCounts(at: split.train).max() ?? 0
        if dataset.patientIDs != nil {
            throw MRIDataError.invalidSetting(
                name: "--validation-patients", reason: "\(rule.patientsPerClass.map(String.init).joined(separator: ",")) leaves the "
                    + "validation set empty (a class needs two patients in the training folds to spare one); raise it, or use other test folds")
        }
        let needed = largestClass > 1 ? String(format: " to at least %.3g", 0.5 / Double(largestClass)) : ""
        throw MRIDataError.invalidSetting(
            name: "--validation-fraction", reason: "\(rule.fraction) leaves the validation set empty (the largest class has "
                + "\(largestClass) training images, and \(rule.fraction) x \(largestClass) rounds to 0); raise it\(needed)")
    }

    /// Noise2Void trains on patches of min(--n2v-patch-size, image side) pixels, which its U-Net halves
    /// `depth` times (the depth has no option: the patch size is the fix).
    func requireNoise2VoidPatchSide(_ n2v: Noise2VoidSettings) throws {
        let minimum = Swift.max(Noise2VoidDenoiser.networkConfiguration(n2v).minimumSide, 2)
        let side = Swift.min(n2v.patchSize, dataset.imageSize)
        guard side < minimum else { return }
        throw TrainingError.invalidConfiguration(
            "Noise2Void patches of \(side) px are smaller than the U-Net's minimum \(minimum) px: raise --n2v-patch-size to at least \(minimum)")
    }

    /// One line on the sets' sizes and class counts, then a line for each of `splitWarnings`.
    public var summary: String {
        func counts(_ indices: [Int]) -> String { MRIDataset.describeCounts(dataset.classCounts(at: indices)) }
        let test = heldOutFraction.map { "test set (\(String(format: "%g", $0)) held out; the data has no folds)" } ?? "test fold \(testFold)"
        return (["\(dataset.count) images at \(dataset.imageSize) px; \(test): \(split.test.count) (\(counts(split.test))); "
            + "train \(split.train.count) (\(counts(split.train))); validation \(split.validation.count) (\(counts(split.validation)))"]
            + splitWarnings.map { "warning: " + $0 }).joined(separator: "\n")
    }

    /// What makes this split's figures hard to read: a test or validation set missing a class that the data has (its
    /// accuracy, and the influence scores and early stopping that use the validation set, then describe the other
    /// classes only), or a validation set larger than the training set. Empty for a sound split.
    public var splitWarnings: [String] {
        let present = dataset.classCounts(at: Array(0..<dataset.count)).map { $0 > 0 }
        var warnings: [String] = []
        for (name, indices) in [("test", split.test), ("validation", split.validation)] where !indices.isEmpty {
            let counts = dataset.classCounts(at: indices)
            let missing = TumourClass.allCases.filter { present[$0.rawValue] && counts[$0.rawValue] == 0 }.map(\.name)
            guard !missing.isEmpty else { continue }
            warnings.append("the \(name) set (\(indices.count) images) has no \(missing.joined(separator: " or ")) images, "
                + "so its accuracy measures the other classes only. \(remedy)")
        }
        if split.validation.count > split.train.count {
            warnings.append("the validation set (\(split.validation.count) images) is larger than the training set "
                + "(\(split.train.count)). \(remedy)")
        }
        return warnings
    }

    /// How to get a sounder split, for the data's kind.
    private var remedy: String {
        synthetic
            ? "With so few phantoms, raise --phantom-count (the default, 600, gives every set every class)."
            : "Check the split: --test-fold, --validation-patients, --validation-fraction."
    }
}
