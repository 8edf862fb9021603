import Foundation
import MRIData
import NN
import RobustTraining
import Tensor

/// A saved model evaluated on one part of a dataset at several test-noise fractions: what
/// `robust-mri evaluate` prints. The noise follows the training rule (`DataPreparation`): at fraction
/// rho a seeded share round(rho n) of the chosen images is noisy, image i's noise drawn from stream
/// (seed, its source id), so on the test split with the run's seed the figures equal the run's own
/// `test_accuracy_by_rho`.
package struct EvaluationReport: Codable, Sendable {
    /// Which images of the split are evaluated.
    package enum Part: String, Codable, CaseIterable, Sendable {
        case all, train, validation, test

        /// Dataset indices of this part of `split` (`all`: every image, in dataset order).
        package func indices(of split: DataSplit, count: Int) -> [Int] {
            switch self {
            case .all: return Array(0..<count)
            case .train: return split.train
            case .validation: return split.validation
            case .test: return split.test
            }
        }
    }

    package struct Entry: Codable, Sendable {
        /// Fraction of noisy images.
        package var rho: Double
        package var evaluation: Evaluation
    }

    package var checkpoint: String
    package var data: String
    package var part: Part
    package var testFold: Int
    package var imageSize: Int
    package var noise: String
    package var seed: UInt64
    /// The Noise2Void denoiser the images went through before the model (an n2v run's), if any.
    package var denoiser: String?
    /// Which BatchNorm statistics normalised: the stored (`running`) or recomputed (`precise`, `clean-validation`).
    package var batchNormStatistics: BatchNormStatisticsKind?
    /// How each slice's intensities were mapped to [0, 1]: the run's mapping from its config.json (or
    /// --intensity-clip), so the model sees images prepared as in its training. nil in reports written before it.
    package var intensity: IntensityMapping?
    package var results: [Entry]
    /// With `clean-validation`: the same fractions with the clean share classified under statistics of the clean
    /// validation images (test-time adaptation), beside `results`.
    package var adaptedResults: [Entry]?

    /// Evaluates `model` on `part` of `data` with `noise` on a share rho of the images, for each of `fractions`.
    /// With a `denoiser` (an N2V run's, read from `denoiserPath`) every image is denoised first, as the run did.
    package static func evaluate(model: CNN, checkpoint: String, data: ExperimentData, sourceName: String, part: Part,
                                noise: NoiseModel, fractions: [Double], seed: UInt64, threads: Int,
                                denoiser: Noise2VoidDenoiser? = nil, denoiserPath: String? = nil,
                                statistics: BatchNormStatisticsKind = .running, preciseImages: Int = 512,
                                intensity: IntensityMapping = .standard) throws -> EvaluationReport {
        let indices = part.indices(of: data.split, count: data.dataset.count)
        // The chosen images as a "test" set, so the noisy share is drawn exactly as for a run's test set, and
        // each distinct image (clean or noisy) is denoised and classified once, whatever the fractions.
        let sets = DataPreparation.testSets(dataset: data.dataset, split: DataSplit(train: [], validation: [], test: indices),
                                            noise: noise, testNoiseFractions: fractions, seed: seed, threads: threads)
        func denoised(_ images: Tensor) -> Tensor { denoiser.map { $0.denoised(images, batchSize: 8) } ?? images }
        var evaluated = model
        var adapted: CNN?
        if statistics != .running {
            // As the run did: over its noisy training images (same seed), and the clean validation images.
            var training = TrainingConfiguration(model: model.configuration, seed: seed, threads: threads)
            training.recipe.preciseStatisticsImages = preciseImages
            let run = RunSettings(data: DataSettings(path: nil, noise: noise, testNoiseFractions: []), training: training)
            let trainingData = try data.trainingData(run)
            evaluated = model.withPreciseStatistics(over: Trainer(configuration: training).preciseStatisticsImages(denoised(trainingData.train.images)))
            if statistics == .cleanValidation {
                adapted = model.withPreciseStatistics(over: denoised(trainingData.validation.images))
            }
        }
        let (tests, adaptedTests) = Trainer.testEvaluations(evaluated, adapted: adapted, on: sets, images: denoised(sets.images))
        let evaluations = tests.map(\.evaluation)
        let adaptedResults = adaptedTests?.map { Entry(rho: $0.rho, evaluation: $0.evaluation) }
        let results = zip(fractions, evaluations).map { Entry(rho: $0, evaluation: $1) }
        return EvaluationReport(checkpoint: checkpoint, data: sourceName, part: part, testFold: data.testFold,
                                imageSize: model.configuration.imageSize, noise: noise.description, seed: seed,
                                denoiser: denoiser == nil ? nil : (denoiserPath ?? "given"), batchNormStatistics: statistics,
                                intensity: intensity, results: results, adaptedResults: adaptedResults)
    }

    /// Tables for a person: per fraction, accuracy and macro-F1, per-class recall/precision, confusion matrix.
    package var text: String {
        let names = TumourClass.allCases.map(\.name)
        let width = max(12, (names.map(\.count).max() ?? 0) + 2)
        func padded(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        func right(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
        }
        let test = testFold == 0 ? "held-out test set" : "test fold \(testFold)"
        var lines = ["\(checkpoint) on the \(part.rawValue) images of \(data) (\(test), \(imageSize) px)",
                     "noise \(noise), seed \(seed)" + (denoiser.map { ", images denoised by \($0)" } ?? "")
                        + (intensity.map { ", intensities \($0.description)" } ?? "")]
        if let statistics = batchNormStatistics, statistics != .running {
            lines.append("BatchNorm statistics recomputed over the training images (precise)")
        }
        var sections: [(title: String?, entries: [Entry])] = [(nil, results)]
        if let adaptedResults {
            sections.append(("Test-time adapted: the clean share classified with BatchNorm statistics of the clean validation images", adaptedResults))
        }
        for (title, entries) in sections {
          if let title { lines += ["", title] }
          for entry in entries {
            let e = entry.evaluation
            lines.append("")
            lines.append(String(format: "test-noise fraction %g: %d images, accuracy %.2f%%, macro-F1 %.3f, mean loss %.4f",
                                entry.rho, e.count, 100 * e.accuracy, e.macroF1, e.meanLoss))
            lines.append(padded("class", width) + right("recall", 9) + right("precision", 11) + right("images", 8))
            for (c, name) in names.enumerated() where c < e.confusion.count {
                lines.append(padded(name, width) + right(String(format: "%.2f%%", 100 * e.recall[c]), 9)
                             + right(String(format: "%.2f%%", 100 * e.precision[c]), 11)
                             + right("\(e.confusion[c].reduce(0, +))", 8))
            }
            lines.append(padded("true \\ predicted", width + 4) + names.prefix(e.confusion.count).map { right($0, width) }.joined())
            for (c, row) in e.confusion.enumerated() {
                lines.append(padded(c < names.count ? names[c] : "class \(c)", width + 4) + row.map { right("\($0)", width) }.joined())
            }
          }
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object (sorted keys; per fraction: accuracy, macro_f1, recall, precision, confusion).
    package func json() throws -> String {
        struct Row: Encodable {
            var rho: Double, images: Int, accuracy: Double, macroF1: Double, meanLoss: Double
            var recall: [Double], precision: [Double], confusion: [[Int]]
            /// The JSON keys: snake case.
            enum CodingKeys: String, CodingKey {
                case rho, images, accuracy, macroF1 = "macro_f1", meanLoss = "mean_loss", recall, precision, confusion
            }
        }
        struct Document: Encodable {
            var checkpoint: String, data: String, split: String, testFold: Int, imageSize: Int, noise: String
            var seed: UInt64, denoiser: String?, intensity: String?, bnStatistics: String?, classes: [String], results: [Row]
            /// With `clean-validation`: the test-time-adapted figures, beside `results`.
            var adaptedResults: [Row]?
            /// The JSON keys: snake case.
            enum CodingKeys: String, CodingKey {
                case checkpoint, data, split, testFold = "test_fold", imageSize = "image_size", noise, seed, denoiser,
                     intensity, bnStatistics = "bn_statistics", classes, results, adaptedResults = "adapted_results"
            }
        }
        func rows(_ entries: [Entry]) -> [Row] {
            entries.map { entry in
                let e = entry.evaluation
                return Row(rho: entry.rho, images: e.count, accuracy: e.accuracy, macroF1: e.macroF1, meanLoss: e.meanLoss,
                           recall: e.recall, precision: e.precision, confusion: e.confusion)
            }
        }
        let document = Document(
            checkpoint: checkpoint, data: data, split: part.rawValue, testFold: testFold, imageSize: imageSize,
            noise: noise, seed: seed, denoiser: denoiser, intensity: intensity?.description,
            bnStatistics: batchNormStatistics?.rawValue, classes: TumourClass.allCases.map(\.name),
            results: rows(results), adaptedResults: adaptedResults.map(rows))
        return String(decoding: try JSONCoding.compactEncoder.encode(document), as: UTF8.self)
    }
}
