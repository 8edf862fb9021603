import Foundation
import Influence
import NN
import Tensor

/// Paper Eq. 7 for every training point of the current model, shared by ISR and ISP (and the
/// `influence` command): the CNN below its last layer is a frozen feature map h(x) (BatchNorm in
/// evaluation mode), theta = [W | b] of `model.classifier`, and
///   s = (H + lambda I)^-1 grad_theta L(V),   I_up,loss(z_i, V) = - s . grad_theta L(z_i)
/// (positive = harmful; docs/influence.md). The solver and its damping come from `InfluenceSettings`.
public struct InfluenceComputation {
    public var settings: InfluenceSettings
    /// Images per feature-extraction / perturbation batch (bounds the memory of the CNN caches).
    public var batchSize: Int
    /// Seed of LiSSA's mini-batch draws.
    public var seed: UInt64
    /// Threads for the exact solver's Hessian assembly.
    public var threads: Int
    /// Whether a fixed LiSSA scale that fails (at or below the Hessian's top eigenvalue, or diverging) gives way to
    /// the automatic scale, with a warning in `Result.warnings` (`LiSSAScaleFallback`): the step inside training,
    /// where a refusal would waste the epochs before it. Off for an explicit computation (`influence`), which refuses.
    public var fallsBackToAutomaticScale: Bool

    public init(settings: InfluenceSettings, batchSize: Int = 32, seed: UInt64 = 0, threads: Int = 2,
                fallsBackToAutomaticScale: Bool = false) {
        precondition(batchSize >= 1, "InfluenceComputation: batch size \(batchSize)")
        self.settings = settings
        self.batchSize = batchSize
        self.seed = seed
        self.threads = Swift.max(1, threads)
        self.fallsBackToAutomaticScale = fallsBackToAutomaticScale
    }

    /// What one computation produced.
    public struct Result: Sendable {
        /// I_up,loss(z_i, V) for every training point: [n]. Positive = harmful.
        public var scores: [Double]
        /// s = (H + lambda I)^-1 grad_theta L(V): [C (D + 1)].
        public var inverseHVP: [Double]
        /// The last-layer objective at the model's W, b on the training features.
        public var objective: SoftmaxLinearObjective
        public var validationLoss: Double
        /// Solver iterations, residual, effective damping, LiSSA scale and top eigenvalue, times.
        public var report: InverseHVPReport
        /// Feature extraction (training and validation images), and solver + scores, in seconds.
        public var featureSeconds: Double
        public var scoreSeconds: Double
        /// What the user must hear about the computation (the LiSSA scale fallback), each a sentence with the fix.
        public var warnings: [String] = []

        /// One line for the epoch log.
        public var summary: String {
            var text = "solver \(report.solver), \(report.iterations) it., residual " + String(format: "%.1e", report.relativeResidual)
                + ", damping " + String(format: "%g", report.effectiveDamping)
            if let scale = report.lissaScale { text += ", scale " + String(format: "%g", scale) }
            return text + String(format: ", features %.1f s, scores %.1f s", featureSeconds, scoreSeconds)
        }
    }

    /// Evaluation-mode features h(x): images [N, C, S, S] -> [N, D], in batches of `batchSize`.
    /// `progress(done, total)` after each batch.
    public func features(of images: Tensor, model: CNN, progress: (Int, Int) -> Void = { _, _ in }) -> Tensor {
        let n = images.shape[0], d = model.configuration.featureCount
        var out = [Float]()
        out.reserveCapacity(n * d)
        var start = 0
        while start < n {
            let end = Swift.min(n, start + batchSize)
            out += model.evaluatedFeatures(images.items(start..<end)).features.scalars
            start = end
            progress(start, n)
        }
        return Tensor(shape: [n, d], scalars: out)
    }

    /// The solver `settings` name, for `objective`.
    public func solver(for objective: SoftmaxLinearObjective) throws -> any InverseHVPSolver {
        switch settings.solver {
        case .exact:
            return try ExactSolver(objective: objective, damping: settings.damping, threads: threads)
        case .cg:
            return ConjugateGradientSolver(objective: objective, damping: settings.damping, tolerance: settings.cgTolerance,
                                           maxIterations: settings.cgMaxIterations)
        case .lissa:
            let configuration = LiSSAConfiguration(
                scale: settings.lissaScale, batchSize: settings.lissaBatchSize,
                depth: settings.lissaDepth, repetitions: settings.lissaRepetitions, seed: seed)
            return try LiSSASolver(objective: objective, damping: settings.damping, configuration: configuration)
        }
    }

    /// Eq. 7 scores of the training images under `model`. trainImages: [n, 1, S, S]; validation: clean.
    /// Solver failures (a LiSSA scale below the Hessian's top eigenvalue, NaN) become
    /// `TrainingError.influence` with the fix in the message.
    public func run(model: CNN, trainImages: Tensor, trainLabels: [Int], validation: LabelledImages,
                    observer: any TrainingObserver = SilentObserver()) throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let total = trainImages.shape[0] + validation.count
        let trainFeatures = features(of: trainImages, model: model) { done, _ in
            observer.phase("influence: features", done: done, of: total)
        }
        let validationFeatures = features(of: validation.images, model: model) { done, _ in
            observer.phase("influence: features", done: trainImages.shape[0] + done, of: total)
        }
        let featureSeconds = Self.seconds(clock.now - started)
        observer.phase("influence: \(settings.solver.rawValue) solve", done: 0, of: 1)
        var result = try scores(training: LabelledFeatures(features: trainFeatures, labels: trainLabels),
                                validation: LabelledFeatures(features: validationFeatures, labels: validation.labels), model: model)
        observer.phase("influence: \(settings.solver.rawValue) solve", done: 1, of: 1)
        result.featureSeconds = featureSeconds
        result.scoreSeconds = Self.seconds(clock.now - started) - featureSeconds
        return result
    }

    /// Eq. 7 from features already extracted (training [n, D], validation [m, D]) and the model's last
    /// layer; the result's times are left at 0.
    public func scores(training: LabelledFeatures, validation: LabelledFeatures, model: CNN) throws -> Result {
        let objective = SoftmaxLinearObjective(training: training, weight: model.classifier.weight, bias: model.classifier.bias)
        var warnings: [String] = []
        let influence: UpweightingInfluence
        do {
            do {
                influence = try upweightingInfluence(objective: objective, validation: validation, solver: solver(for: objective))
            } catch let error as InfluenceError {
                guard fallsBackToAutomaticScale, let automatic = LiSSAScaleFallback.settings(after: error, settings) else { throw error }
                var computation = self
                computation.settings = automatic
                influence = try upweightingInfluence(objective: objective, validation: validation, solver: computation.solver(for: objective))
                warnings.append(LiSSAScaleFallback.warning(after: error, report: influence.report))
            }
            if let truncated = influence.report.truncationWarning { warnings.append("influence at T: " + truncated) }
        } catch let error as InfluenceError {
            throw TrainingError.influence("influence scores: \(error)" + Self.fix(for: error))
        } catch let Linalg.Failure.notPositiveDefinite(order, pivot) {
            // Said once, with the setting's name (LAPACK's own text ends in "raise the damping" too).
            throw TrainingError.influence("influence scores: the exact solver's Cholesky factorization found H + damping x I "
                + "(\(order) x \(order), damping " + String(format: "%g", settings.damping) + ") not positive definite at leading minor \(pivot); "
                + "raise --damping (the authors' is \(LiSSAConfiguration.authorsDamping)) or use --solver cg")
        } catch {
            throw TrainingError.influence("influence scores: \(error); raise --damping or try --solver cg")
        }
        return Result(scores: influence.scores, inverseHVP: influence.inverseHVP, objective: objective,
                      validationLoss: influence.validationLoss, report: influence.report, featureSeconds: 0, scoreSeconds: 0,
                      warnings: warnings)
    }

    /// The options that fix `error`, as the tool spells them. A LiSSA scale at or below the Hessian's largest
    /// eigenvalue (small models' last layers often have one above the authors' 50) is fixed by `--lissa-scale auto`,
    /// which measures that eigenvalue and sets the scale above it.
    static func fix(for error: InfluenceError) -> String {
        switch error {
        case let .lissaScaleTooSmall(_, _, needed), let .lissaDiverged(_, _, needed):
            return ". Fix: pass --lissa-scale auto (or --lissa-scale \(Int(needed.rounded(.up))) or more; --solver cg or exact avoid the scale)"
        case .cgNotConverged, .nonFinite:
            return " (options --damping, --solver)"
        }
    }

    /// Paper Eq. 8 on images: I_pert,loss(z_i, V) = - grad_x (s . grad_theta L(z_i)) for the training
    /// points `indices`, in batches. `body(batchIndices, iPert)` receives each batch, iPert: [B, 1, S, S];
    /// caches exist for one batch at a time. `images` must be the images `result.objective` was built on.
    /// Glue (docs/influence.md): G = d f_i / d h_i (`perturbationFeatureGradient`), backpropagated through
    /// the evaluation-mode feature extractor gives d f_i / d x_i; I_pert is its negation.
    public func forEachPerturbationInfluence(
        _ result: Result, model: CNN, images: Tensor, indices: [Int],
        progress: (Int, Int) -> Void = { _, _ in }, body: ([Int], Tensor) throws -> Void
    ) rethrows {
        let gradients = result.objective.perturbationFeatureGradient(inverseHVP: result.inverseHVP)   // [n, D]
        var start = 0
        while start < indices.count {
            let end = Swift.min(indices.count, start + batchSize)
            let batch = Array(indices[start..<end])
            let cache = model.evaluatedFeatures(images.gathered(items: batch)).cache
            var dfdx = model.backwardFromFeatures(dfeatures: gradients.gathered(items: batch), cache: cache)
            dfdx.withUnsafeMutableBufferPointer { p in
                for i in p.indices { p[i] = -p[i] }
            }
            try body(batch, dfdx)
            start = end
            progress(start, indices.count)
        }
    }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// A method's influence step at its switch epoch: Eq. 7 for the training images under the model as it is
    /// evaluated (the recipe's weights and BatchNorm statistics: `Trainer.evaluationModels`; the last weights
    /// and running statistics under the paper recipe), batched like training, LiSSA seeded by the run's seed,
    /// progress to the run's observer; a fixed LiSSA scale that fails gives way to the automatic one with a warning
    /// (`fallsBackToAutomaticScale`). Returns that model too: ISP's perturbations must use the same one.
    static func atSwitch(_ settings: InfluenceSettings, state: TrainingState, context: MethodContext) throws
        -> (computation: InfluenceComputation, result: Result, model: CNN) {
        let computation = InfluenceComputation(settings: settings, batchSize: context.configuration.batchSize,
                                               seed: context.configuration.seed, threads: context.configuration.threads,
                                               fallsBackToAutomaticScale: true)
        let model = Trainer(configuration: context.configuration).evaluationModels(state: state, data: context.data, method: NaiveMethod()).model
        let result = try computation.run(model: model, trainImages: state.trainImages, trainLabels: context.data.train.labels,
                                         validation: context.data.validation, observer: context.observer)
        return (computation, result, model)
    }
}
