import Foundation
import Influence
import MRIData
import NN
import RobustTraining
import Tensor

/// The built-in validation of the influence engine (`robust-mri influence --check`):
/// 1. leave-one-out retraining against Eq. 7 (`LeaveOneOutCheck`) on the synthetic feature problem, and on
///    the last-layer features of a small CNN trained a few epochs on noisy phantoms (a subset of its
///    training points; the last layer is refit to the L2-regularized objective, docs/influence.md);
/// 2. CG and LiSSA against the exact solve at the methods' damping (2.5) on that CNN's own last layer,
///    as ISR and ISP use them: solution error and agreement of the scores.
package enum InfluenceCheck {
    package struct Settings: Codable, Sendable, Equatable {
        package var imageSize = 48
        package var imageCount = 400
        package var epochs = 6
        package var learningRate: Float = 0.001
        /// Training points of the CNN features used in the leave-one-out check.
        package var subsetCount = 300
        package var points = 40
        /// Damping of the leave-one-out check (small, so the check means something).
        package var looDamping = 0.01
        /// Damping of the solver comparison (the methods' default).
        package var methodDamping = 2.5
        package var seed: UInt64 = 1
        package var threads = 2

        package init() {}
    }

    /// One leave-one-out problem.
    package struct LeaveOneOutRow: Codable, Sendable {
        package var problem: String
        package var n: Int
        package var d: Int
        package var damping: Double
        package var loo_pearson: Double
        package var loo_spearman: Double
        package var loo_sign_agreement: Double
        package var cg_rel_error: Double
        package var lissa_cosine: Double
        package var lissa_rel_error: Double
        package var lissa_scale: Double
        package var exact_seconds: Double
        package var cg_seconds: Double
        package var lissa_seconds: Double
        package var retrain_seconds: Double

        init(problem: String, d: Int, _ r: LeaveOneOutReport) {
            self.problem = problem
            n = r.trainingCount
            self.d = d
            damping = r.damping
            loo_pearson = r.pearson
            loo_spearman = r.spearman
            loo_sign_agreement = r.signAgreement
            cg_rel_error = r.cgRelativeError
            lissa_cosine = r.lissaCosine
            lissa_rel_error = r.lissaRelativeError
            lissa_scale = r.lissaScale
            exact_seconds = r.exactSeconds
            cg_seconds = r.cgSeconds
            lissa_seconds = r.lissaSeconds
            retrain_seconds = r.retrainSeconds
        }
    }

    /// CG and LiSSA against the exact solve on the trained CNN's last layer (all training points).
    package struct SolverRow: Codable, Sendable {
        package var n: Int
        package var d: Int
        package var damping: Double
        package var top_eigenvalue: Double
        package var lissa_scale: Double
        package var cg_rel_error: Double
        package var lissa_cosine: Double
        package var lissa_rel_error: Double
        /// Pearson and Spearman correlation of LiSSA's Eq. 7 scores with the exact ones.
        package var lissa_score_pearson: Double
        package var lissa_score_spearman: Double
        package var exact_seconds: Double
        package var cg_seconds: Double
        package var lissa_seconds: Double
    }

    /// The check's output; the top-level keys repeat the CNN leave-one-out row.
    package struct Report: Codable, Sendable {
        package var loo_pearson: Double
        package var loo_spearman: Double
        package var cg_rel_error: Double
        package var lissa_cosine: Double
        package var lissa_rel_error: Double
        package var n: Int
        package var d: Int
        package var damping: Double
        package var cnn: LeaveOneOutRow
        package var synthetic: LeaveOneOutRow
        package var solvers: SolverRow
        package var cnn_validation_accuracy: Double
        package var train_seconds: Double
        package var total_seconds: Double

        /// A table for people.
        package var text: String {
            func f(_ x: Double) -> String { String(format: "%.3g", x) }
            var lines = ["leave-one-out (exact Eq. 7 vs retraining, L2-regularized last layer):",
                         "  problem      n     D  damping  pearson  spearman  signs  cg rel.err  lissa cos  lissa rel.err  scale"]
            for row in [synthetic, cnn] {
                lines.append("  " + row.problem.padding(toLength: 10, withPad: " ", startingAt: 0)
                             + String(format: " %5d %5d  %7g  %7.3f  %8.3f  %5.2f  %10.1e  %9.3f  %13.3f  %5g", row.n, row.d, row.damping,
                                      row.loo_pearson, row.loo_spearman, row.loo_sign_agreement, row.cg_rel_error,
                                      row.lissa_cosine, row.lissa_rel_error, row.lissa_scale))
            }
            lines.append("solvers on the trained CNN's last layer (n \(solvers.n), D \(solvers.d), damping \(f(solvers.damping)), top eigenvalue \(f(solvers.top_eigenvalue))):")
            lines.append("  cg rel. error \(String(format: "%.1e", solvers.cg_rel_error)); lissa (scale \(f(solvers.lissa_scale))) cosine \(f(solvers.lissa_cosine)), rel. error \(f(solvers.lissa_rel_error)), score pearson \(f(solvers.lissa_score_pearson)), spearman \(f(solvers.lissa_score_spearman))")
            lines.append("  times: exact \(f(solvers.exact_seconds)) s, cg \(f(solvers.cg_seconds)) s, lissa \(f(solvers.lissa_seconds)) s")
            lines.append("CNN: \(cnn.n) of its training points, validation accuracy " + String(format: "%.1f%%", 100 * cnn_validation_accuracy)
                         + ", trained in \(f(train_seconds)) s; check total \(f(total_seconds)) s")
            return lines.joined(separator: "\n")
        }
    }

    package static func run(_ settings: Settings = Settings(), observer: any TrainingObserver = SilentObserver()) throws -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        let synthetic = SyntheticFeatureProblem.gaussianClusters(seed: settings.seed)
        let looConfiguration = LeaveOneOutConfiguration(damping: settings.looDamping, pointCount: settings.points, seed: settings.seed,
                                                        lissa: LiSSAConfiguration(scale: .auto, seed: settings.seed))
        observer.message("influence check: leave-one-out on the synthetic feature problem")
        let syntheticReport = try LeaveOneOutCheck.run(training: synthetic.training, validation: synthetic.validation,
                                                       classCount: synthetic.classCount, configuration: looConfiguration)

        // A small CNN trained on noisy phantoms.
        let dataSettings = DataSettings(
            phantom: PhantomConfiguration(count: settings.imageCount, patients: Swift.max(5, settings.imageCount / 5),
                                          imageSize: settings.imageSize, seed: settings.seed),
            imageSize: settings.imageSize, cacheDirectory: nil)
        let training = TrainingConfiguration(method: .naive, model: .same3x3(imageSize: settings.imageSize), epochs: settings.epochs,
                                             learningRate: settings.learningRate, seed: settings.seed, threads: settings.threads)
        let data = try ExperimentData.load(dataSettings, threads: settings.threads, verbose: false)
        observer.message("influence check: training a \(settings.imageSize) px CNN on \(data.split.train.count) phantoms for \(settings.epochs) epochs")
        let outcome = try SingleRun(settings: RunSettings(data: dataSettings, training: training), directory: nil)
            .execute(data: data, id: "influence-check", resume: false, observer: observer)
        let model = outcome.state.model
        let computation = InfluenceComputation(settings: InfluenceSettings(), seed: settings.seed)
        let trainFeatures = computation.features(of: outcome.data.train.images, model: model)
        let validation = LabeledFeatures(features: computation.features(of: outcome.data.validation.images, model: model),
                                         labels: outcome.data.validation.labels)
        let subset = Array(0..<Swift.min(settings.subsetCount, outcome.data.train.count))
        let subsetFeatures = LabeledFeatures(features: trainFeatures.gathered(items: subset),
                                             labels: subset.map { outcome.data.train.labels[$0] })
        observer.message("influence check: leave-one-out on the CNN's last-layer features")
        let cnnReport = try LeaveOneOutCheck.run(training: subsetFeatures, validation: validation,
                                                 classCount: model.configuration.classes, configuration: looConfiguration)
        let all = LabeledFeatures(features: trainFeatures, labels: outcome.data.train.labels)
        let solvers = try compareSolvers(training: all, validation: validation, model: model,
                                         damping: settings.methodDamping, seed: settings.seed)
        let d = model.configuration.featureCount
        let cnnRow = LeaveOneOutRow(problem: "cnn", d: d, cnnReport)
        return Report(
            loo_pearson: cnnRow.loo_pearson, loo_spearman: cnnRow.loo_spearman, cg_rel_error: cnnRow.cg_rel_error,
            lissa_cosine: cnnRow.lissa_cosine, lissa_rel_error: cnnRow.lissa_rel_error, n: cnnRow.n, d: d,
            damping: cnnRow.damping, cnn: cnnRow,
            synthetic: LeaveOneOutRow(problem: "synthetic", d: synthetic.training.featureCount, syntheticReport),
            solvers: solvers, cnn_validation_accuracy: outcome.record.final?.validation.accuracy ?? .nan,
            train_seconds: outcome.record.trainSeconds, total_seconds: InfluenceComputation.seconds(clock.now - started))
    }

    /// Exact, CG and LiSSA (the authors' settings, `auto` scale when 50 is too small) on the model's own
    /// last layer at `damping`.
    static func compareSolvers(training: LabeledFeatures, validation: LabeledFeatures, model: CNN, damping: Double,
                               seed: UInt64) throws -> SolverRow {
        let objective = SoftmaxLinearObjective(training: training, weight: model.classifier.weight, bias: model.classifier.bias)
        let exactStart = ContinuousClock.now
        let exact = try upweightingInfluence(objective: objective, validation: validation,
                                             solver: ExactSolver(objective: objective, damping: damping))
        let exactSeconds = InfluenceComputation.seconds(ContinuousClock.now - exactStart)
        let cg = try upweightingInfluence(objective: objective, validation: validation,
                                          solver: ConjugateGradientSolver(objective: objective, damping: damping))
        let lissaSolver: LiSSASolver
        do {
            lissaSolver = try LiSSASolver(objective: objective, damping: damping, configuration: LiSSAConfiguration(seed: seed))
        } catch InfluenceError.lissaScaleTooSmall {
            lissaSolver = try LiSSASolver(objective: objective, damping: damping, configuration: LiSSAConfiguration(scale: .auto, seed: seed))
        }
        let lissa = try upweightingInfluence(objective: objective, validation: validation, solver: lissaSolver)
        return SolverRow(
            n: training.count, d: training.featureCount, damping: damping, top_eigenvalue: lissaSolver.eigenvalue.value,
            lissa_scale: lissa.report.lissaScale ?? lissaSolver.scale,
            cg_rel_error: Linalg.relativeDistance(cg.inverseHVP, from: exact.inverseHVP),
            lissa_cosine: Linalg.cosine(lissa.inverseHVP, exact.inverseHVP),
            lissa_rel_error: Linalg.relativeDistance(lissa.inverseHVP, from: exact.inverseHVP),
            lissa_score_pearson: Correlation.pearson(lissa.scores, exact.scores),
            lissa_score_spearman: Correlation.spearman(lissa.scores, exact.scores),
            exact_seconds: exactSeconds, cg_seconds: cg.report.solveSeconds,
            lissa_seconds: lissa.report.setupSeconds + lissa.report.solveSeconds)
    }
}
