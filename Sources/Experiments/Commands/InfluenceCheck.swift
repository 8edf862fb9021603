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
/// 2. CG and LiSSA against the exact solve at the methods' damping (`InfluenceSettings().damping`) on that
///    CNN's own last layer, as ISR and ISP use them: solution error and agreement of the scores.
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
        package var methodDamping = InfluenceSettings().damping
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
        package var looPearson: Double
        package var looSpearman: Double
        package var looSignAgreement: Double
        package var cgRelativeError: Double
        package var lissaCosine: Double
        package var lissaRelativeError: Double
        package var lissaScale: Double
        package var exactSeconds: Double
        package var cgSeconds: Double
        package var lissaSeconds: Double
        package var retrainSeconds: Double
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case problem, n, d, damping, looPearson = "loo_pearson", looSpearman = "loo_spearman",
                 looSignAgreement = "loo_sign_agreement", cgRelativeError = "cg_rel_error",
                 lissaCosine = "lissa_cosine", lissaRelativeError = "lissa_rel_error", lissaScale = "lissa_scale",
                 exactSeconds = "exact_seconds", cgSeconds = "cg_seconds", lissaSeconds = "lissa_seconds",
                 retrainSeconds = "retrain_seconds"
        }

        init(problem: String, d: Int, _ r: LeaveOneOutReport) {
            self.problem = problem
            n = r.trainingCount
            self.d = d
            damping = r.damping
            looPearson = r.pearson
            looSpearman = r.spearman
            looSignAgreement = r.signAgreement
            cgRelativeError = r.cgRelativeError
            lissaCosine = r.lissaCosine
            lissaRelativeError = r.lissaRelativeError
            lissaScale = r.lissaScale
            exactSeconds = r.exactSeconds
            cgSeconds = r.cgSeconds
            lissaSeconds = r.lissaSeconds
            retrainSeconds = r.retrainSeconds
        }
    }

    /// CG and LiSSA against the exact solve on the trained CNN's last layer (all training points).
    package struct SolverRow: Codable, Sendable {
        package var n: Int
        package var d: Int
        package var damping: Double
        package var topEigenvalue: Double
        package var lissaScale: Double
        package var cgRelativeError: Double
        package var lissaCosine: Double
        package var lissaRelativeError: Double
        /// Pearson and Spearman correlation of LiSSA's Eq. 7 scores with the exact ones.
        package var lissaScorePearson: Double
        package var lissaScoreSpearman: Double
        package var exactSeconds: Double
        package var cgSeconds: Double
        package var lissaSeconds: Double
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case n, d, damping, topEigenvalue = "top_eigenvalue", lissaScale = "lissa_scale",
                 cgRelativeError = "cg_rel_error", lissaCosine = "lissa_cosine",
                 lissaRelativeError = "lissa_rel_error", lissaScorePearson = "lissa_score_pearson",
                 lissaScoreSpearman = "lissa_score_spearman", exactSeconds = "exact_seconds", cgSeconds = "cg_seconds",
                 lissaSeconds = "lissa_seconds"
        }
    }

    /// The check's output; the top-level keys repeat the CNN leave-one-out row.
    package struct Report: Codable, Sendable {
        package var looPearson: Double
        package var looSpearman: Double
        package var cgRelativeError: Double
        package var lissaCosine: Double
        package var lissaRelativeError: Double
        package var n: Int
        package var d: Int
        package var damping: Double
        package var cnn: LeaveOneOutRow
        package var synthetic: LeaveOneOutRow
        package var solvers: SolverRow
        package var cnnValidationAccuracy: Double
        package var trainSeconds: Double
        package var totalSeconds: Double
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case looPearson = "loo_pearson", looSpearman = "loo_spearman", cgRelativeError = "cg_rel_error",
                 lissaCosine = "lissa_cosine", lissaRelativeError = "lissa_rel_error", n, d, damping, cnn, synthetic,
                 solvers, cnnValidationAccuracy = "cnn_validation_accuracy", trainSeconds = "train_seconds",
                 totalSeconds = "total_seconds"
        }

        /// A table for people.
        package var text: String {
            func f(_ x: Double) -> String { String(format: "%.3g", x) }
            var lines = ["leave-one-out (exact Eq. 7 vs retraining, L2-regularized last layer):",
                         "  problem      n     D  damping  pearson  spearman  signs  cg rel.err  lissa cos  lissa rel.err  scale"]
            for row in [synthetic, cnn] {
                lines.append("  " + row.problem.padding(toLength: 10, withPad: " ", startingAt: 0)
                             + String(format: " %5d %5d  %7g  %7.3f  %8.3f  %5.2f  %10.1e  %9.3f  %13.3f  %5g", row.n, row.d, row.damping,
                                      row.looPearson, row.looSpearman, row.looSignAgreement, row.cgRelativeError,
                                      row.lissaCosine, row.lissaRelativeError, row.lissaScale))
            }
            lines.append("solvers on the trained CNN's last layer (n \(solvers.n), D \(solvers.d), damping \(f(solvers.damping)), top eigenvalue \(f(solvers.topEigenvalue))):")
            lines.append("  cg rel. error \(String(format: "%.1e", solvers.cgRelativeError)); lissa (scale \(f(solvers.lissaScale))) cosine \(f(solvers.lissaCosine)), rel. error \(f(solvers.lissaRelativeError)), score pearson \(f(solvers.lissaScorePearson)), spearman \(f(solvers.lissaScoreSpearman))")
            lines.append("  times: exact \(f(solvers.exactSeconds)) s, cg \(f(solvers.cgSeconds)) s, lissa \(f(solvers.lissaSeconds)) s")
            lines.append("CNN: \(cnn.n) of its training points, validation accuracy " + String(format: "%.1f%%", 100 * cnnValidationAccuracy)
                         + ", trained in \(f(trainSeconds)) s; check total \(f(totalSeconds)) s")
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
            .execute(data: data, id: "influence-check", resumption: .refuse, observer: observer)
        let model = outcome.state.model
        let computation = InfluenceComputation(settings: InfluenceSettings(), seed: settings.seed)
        let trainFeatures = computation.features(of: outcome.data.train.images, model: model)
        let validation = LabelledFeatures(features: computation.features(of: outcome.data.validation.images, model: model),
                                          labels: outcome.data.validation.labels)
        let subset = Array(0..<Swift.min(settings.subsetCount, outcome.data.train.count))
        let subsetFeatures = LabelledFeatures(features: trainFeatures.gathered(items: subset),
                                              labels: subset.map { outcome.data.train.labels[$0] })
        observer.message("influence check: leave-one-out on the CNN's last-layer features")
        let cnnReport = try LeaveOneOutCheck.run(training: subsetFeatures, validation: validation,
                                                 classCount: model.configuration.classes, configuration: looConfiguration)
        let all = LabelledFeatures(features: trainFeatures, labels: outcome.data.train.labels)
        let solvers = try compareSolvers(training: all, validation: validation, model: model,
                                         damping: settings.methodDamping, seed: settings.seed)
        let d = model.configuration.featureCount
        let cnnRow = LeaveOneOutRow(problem: "cnn", d: d, cnnReport)
        return Report(
            looPearson: cnnRow.looPearson, looSpearman: cnnRow.looSpearman, cgRelativeError: cnnRow.cgRelativeError,
            lissaCosine: cnnRow.lissaCosine, lissaRelativeError: cnnRow.lissaRelativeError, n: cnnRow.n, d: d,
            damping: cnnRow.damping, cnn: cnnRow,
            synthetic: LeaveOneOutRow(problem: "synthetic", d: synthetic.training.featureCount, syntheticReport),
            solvers: solvers, cnnValidationAccuracy: outcome.record.final?.validation.accuracy ?? .nan,
            trainSeconds: outcome.record.trainSeconds, totalSeconds: InfluenceComputation.seconds(clock.now - started))
    }

    /// Exact, CG and LiSSA (the authors' settings, `auto` scale when 50 is too small) on the model's own
    /// last layer at `damping`.
    static func compareSolvers(training: LabelledFeatures, validation: LabelledFeatures, model: CNN, damping: Double,
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
            n: training.count, d: training.featureCount, damping: damping, topEigenvalue: lissaSolver.eigenvalue.value,
            lissaScale: lissa.report.lissaScale ?? lissaSolver.scale,
            cgRelativeError: Linalg.relativeDistance(cg.inverseHVP, from: exact.inverseHVP),
            lissaCosine: Linalg.cosine(lissa.inverseHVP, exact.inverseHVP),
            lissaRelativeError: Linalg.relativeDistance(lissa.inverseHVP, from: exact.inverseHVP),
            lissaScorePearson: Correlation.pearson(lissa.scores, exact.scores),
            lissaScoreSpearman: Correlation.spearman(lissa.scores, exact.scores),
            exactSeconds: exactSeconds, cgSeconds: cg.report.solveSeconds,
            lissaSeconds: lissa.report.setupSeconds + lissa.report.solveSeconds)
    }
}
