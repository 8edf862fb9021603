import Foundation
import Influence
import MRIData
import NN
import RobustTraining
import Tensor

/// Timing of the influence steps at the paper's size (`robust-mri influence --bench`): phantoms at
/// `imageSize` (default 256 px, 2300 images, as the figshare training folds), a freshly initialised
/// authors-variant CNN (the timings do not depend on training): features of every training and validation
/// image, Eq. 7 scores with each solver, Eq. 8 perturbation images for every training point, and one
/// training epoch estimated from `Bench.measure` (forward + backward + Adam on batches of 32).
package enum InfluenceBench {
    package struct Settings: Codable, Sendable {
        package var imageCount = 2300
        package var validationCount = 150
        package var imageSize = 256
        package var threads = 2
        package var batchSize = 32
        package var seed: UInt64 = 1

        package init() {}
    }

    package struct SolverTiming: Codable, Sendable {
        package var solver: String
        /// Objective set-up + solver set-up + solve + scores (features excluded).
        package var seconds: Double
        package var iterations: Int
        package var lissaScale: Double?
        package var note: String?
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case solver, seconds, iterations, lissaScale = "lissa_scale", note
        }
    }

    package struct Result: Codable, Sendable {
        package var n: Int
        package var validationCount: Int
        package var imageSize: Int
        package var d: Int
        package var threads: Int
        package var dataSeconds: Double
        package var featureSeconds: Double
        package var solvers: [SolverTiming]
        package var perturbationSeconds: Double
        package var epochSecondsEstimate: Double
        package var trainMillisecondsPerBatch: Double
        package var loadAverage: String
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case n, validationCount = "validation_n", imageSize = "image_size", d, threads,
                 dataSeconds = "data_seconds", featureSeconds = "feature_seconds", solvers,
                 perturbationSeconds = "perturbation_seconds", epochSecondsEstimate = "epoch_seconds_estimate",
                 trainMillisecondsPerBatch = "train_ms_per_batch", loadAverage = "load_average"
        }

        package var text: String {
            func f(_ x: Double) -> String { String(format: "%.2f", x) }
            var lines = ["influence timings: n \(n) training + \(validationCount) validation images at \(imageSize) px, D \(d), \(threads) threads (load \(loadAverage))",
                         "  features (eval mode, all images)   \(f(featureSeconds)) s"]
            for s in solvers {
                lines.append("  Eq. 7 scores, \(s.solver.padding(toLength: 6, withPad: " ", startingAt: 0))              \(f(s.seconds)) s"
                             + " (\(s.iterations) it.\(s.lissaScale.map { ", scale " + String(format: "%g", $0) } ?? "")\(s.note.map { "; " + $0 } ?? ""))")
            }
            lines.append("  Eq. 8 perturbations, all points     \(f(perturbationSeconds)) s")
            lines.append("  one training epoch (estimated)      \(f(epochSecondsEstimate)) s (\(f(trainMillisecondsPerBatch)) ms per batch of 32)")
            lines.append("  (phantom generation \(f(dataSeconds)) s, not part of the method)")
            return lines.joined(separator: "\n")
        }
    }

    package static func run(_ settings: Settings = Settings(), observer: any TrainingObserver = SilentObserver()) throws -> Result {
        let clock = ContinuousClock()
        var start = clock.now
        func lap() -> Double {
            let now = clock.now
            defer { start = now }
            return InfluenceComputation.seconds(now - start)
        }
        let total = settings.imageCount + settings.validationCount
        let phantoms = try PhantomGenerator(PhantomConfiguration(count: total, patients: Swift.max(1, total / 5),
                                                                 imageSize: settings.imageSize, seed: settings.seed)).generate()
        let trainIndices = Array(0..<settings.imageCount), validationIndices = Array(settings.imageCount..<total)
        let train = LabelledImages(images: phantoms.images.gathered(items: trainIndices), labels: trainIndices.map { phantoms.labels[$0] })
        let validation = LabelledImages(images: phantoms.images.gathered(items: validationIndices),
                                        labels: validationIndices.map { phantoms.labels[$0] })
        let dataSeconds = lap()
        var generator = SeededGenerator(seed: settings.seed)
        let model = try CNN(configuration: .authors(imageSize: settings.imageSize), generator: &generator, threads: settings.threads)

        observer.message("features of \(total) images")
        let base = InfluenceComputation(settings: InfluenceSettings(), batchSize: settings.batchSize, seed: settings.seed)
        let trainFeatures = base.features(of: train.images, model: model) { observer.phase("features", done: $0, of: $1) }
        let validationFeatures = LabelledFeatures(features: base.features(of: validation.images, model: model), labels: validation.labels)
        let featureSeconds = lap()

        var timings: [SolverTiming] = []
        var last: InfluenceComputation.Result?
        for kind in InfluenceSolverKind.allCases {
            var influence = InfluenceSettings()
            influence.solver = kind
            var note: String?
            _ = lap()
            let training = LabelledFeatures(features: trainFeatures, labels: train.labels)
            var computation = InfluenceComputation(settings: influence, seed: settings.seed)
            var outcome = try? computation.scores(training: training, validation: validationFeatures, model: model)
            if outcome == nil && kind == .lissa {
                note = "fixed scale 50 too small; auto"
                computation.settings.lissaScale = .auto
                outcome = try computation.scores(training: training, validation: validationFeatures, model: model)
            }
            let seconds = lap()
            guard let outcome else { continue }
            timings.append(SolverTiming(solver: kind.rawValue, seconds: seconds, iterations: outcome.report.iterations,
                                        lissaScale: outcome.report.lissaScale, note: note))
            last = outcome
        }
        var perturbationSeconds = Double.nan
        if let last {
            observer.message("perturbations of \(settings.imageCount) images")
            var checksum: Float = 0
            _ = lap()
            base.forEachPerturbationInfluence(last, model: model, images: train.images, indices: trainIndices,
                                              progress: { observer.phase("perturbations", done: $0, of: $1) }) { _, iPert in
                checksum += iPert.scalars[0]
            }
            perturbationSeconds = lap()
            precondition(checksum.isFinite || !checksum.isFinite)  // keeps the work observable
        }
        observer.message("training batches")
        let bench = try Bench.measure(Bench.Setting(variant: .authors, imageSize: settings.imageSize, threads: settings.threads,
                                                    batchSize: settings.batchSize, warmup: 1, iterations: 3, seed: settings.seed))
        let batches = (settings.imageCount + settings.batchSize - 1) / settings.batchSize
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        return Result(n: settings.imageCount, validationCount: settings.validationCount, imageSize: settings.imageSize,
                      d: model.configuration.featureCount, threads: settings.threads, dataSeconds: dataSeconds,
                      featureSeconds: featureSeconds, solvers: timings, perturbationSeconds: perturbationSeconds,
                      epochSecondsEstimate: bench.trainMillisecondsPerBatch * Double(batches) / 1000,
                      trainMillisecondsPerBatch: bench.trainMillisecondsPerBatch, loadAverage: load)
    }
}
