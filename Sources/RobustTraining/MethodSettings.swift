import Influence

/// Which inverse-Hessian-vector-product solver computes s = (H + lambda I)^-1 grad L(V).
public enum InfluenceSolverKind: String, Codable, Sendable, CaseIterable {
    /// Cholesky of the full (C(D+1))^2 Hessian.
    case exact
    /// Conjugate gradient on Hessian-vector products.
    case cg
    /// LiSSA (Agarwal et al.), as the authors ran it.
    case lissa
}

/// How the influence scores are computed: one value, shared by ISR and ISP (`TrainingConfiguration.influence`).
/// Defaults: the authors' LiSSA settings; the damping is LiSSA's effective damping there
/// (`LiSSAConfiguration.authorsDamping`: scale 50 x damp 0.05), used by every solver so that scores mean the
/// same whichever solver computed them.
public struct InfluenceSettings: Codable, Sendable, Equatable {
    public var solver: InfluenceSolverKind = .lissa
    public var damping: Double = LiSSAConfiguration.authorsDamping
    /// LiSSA's scale (a fixed one must exceed the Hessian's largest eigenvalue, and the damping), or `auto`:
    /// max(50, 1.5 x the estimated top eigenvalue), doubled if the recursion diverges. Stored as a number or
    /// "auto"; settings written with 0 for auto read as `auto`.
    public var lissaScale: LiSSAConfiguration.Scale = .fixed(50)
    /// LiSSA's mini-batch of training points per step.
    public var lissaBatchSize: Int = 10
    /// LiSSA's recursion depth; nil = |train| / batch size, as the authors.
    public var lissaDepth: Int? = nil
    public var lissaRepetitions: Int = 1
    public var cgTolerance: Double = 1e-8
    public var cgMaxIterations: Int = 500

    public init() {}

    public func validate() throws(TrainingError) {
        guard damping >= 0, damping.isFinite else { throw .invalidConfiguration("influence damping must be >= 0 (got \(damping))") }
        guard solver != .lissa || damping > 0 else { throw .invalidConfiguration("LiSSA needs a positive damping (got \(damping))") }
        switch lissaScale {
        case .fixed(let scale):
            guard scale.isFinite, scale > 0 else { throw .invalidConfiguration("LiSSA scale must be a positive number or auto (got \(scale))") }
            guard solver != .lissa || scale > damping else {
                throw .invalidConfiguration("LiSSA scale \(scale) must exceed the damping \(damping) (damp = damping / scale < 1): raise --lissa-scale or use --lissa-scale auto")
            }
        case .auto:
            let smallest = LiSSAConfiguration().autoMinimum
            guard solver != .lissa || damping < smallest else {
                throw .invalidConfiguration("LiSSA scale auto (at least \(smallest)) must exceed the damping \(damping) (damp = damping / scale < 1): lower --damping or give a larger --lissa-scale")
            }
        }
        guard cgTolerance > 0, cgMaxIterations >= 1 else { throw .invalidConfiguration("CG tolerance must be positive and its iterations at least 1") }
        guard lissaDepth.map({ $0 >= 1 }) ?? true else { throw .invalidConfiguration("LiSSA depth must be at least 1") }
        guard lissaBatchSize >= 1, lissaRepetitions >= 1 else {
            throw .invalidConfiguration("LiSSA batch size and repetitions must be at least 1")
        }
    }
}

/// ISR's weighting direction, where the paper's text and the authors' code disagree.
public enum ISRDirection: String, Codable, Sendable, CaseIterable {
    /// Paper text: weights from min-max-scaled I_up,loss, so harmful points (positive influence) get the larger weight.
    case harmfulUp = "harmful-up"
    /// Authors' code: weights from min-max-scaled -I_up,loss, so helpful points get the larger weight.
    case helpfulUp = "helpful-up"
}

/// Influence-based sample reweighing (paper Algorithm 1).
public struct ISRSettings: Codable, Sendable, Equatable {
    /// Epochs of normal training before the reweighting (authors: 15 of 20).
    public var switchEpoch: Int = 15
    /// Weights are min-max scaled into [1, alpha].
    public var alpha: Double = 2
    public var direction: ISRDirection = .helpfulUp
    /// The influence settings ISR scores with: read through `TrainingConfiguration.isr`, this is the configuration's
    /// one `influence` (shared with ISP), and setting it there sets that. Not stored with ISR's own settings.
    public var influence = InfluenceSettings()

    public init() {}

    /// ISR's own settings; `influence` lives in `TrainingConfiguration` (files written before it was shared
    /// carry a copy here, which `TrainingConfiguration.init(from:)` reads).
    private enum CodingKeys: String, CodingKey { case switchEpoch, alpha, direction }
}

/// Which training points ISP perturbs, where the paper's text and the authors' code disagree.
public enum ISPRanking: String, Codable, Sendable, CaseIterable {
    /// Paper text: the top-k by I_up,loss (most harmful).
    case harmful
    /// Authors' code: the top-k by -I_up,loss (most helpful). At ratio 1.0 both keep every point.
    case helpful
}

/// How ISP turns the perturbation influence into a pixel change.
public enum ISPStep: String, Codable, Sendable, CaseIterable {
    /// delta = -epsilon * I_pert,loss (the authors: the raw gradient).
    case raw
    /// delta = -epsilon * sign(I_pert,loss) (an FGSM-like variant).
    case sign
}

/// How ISP stores a perturbed image.
public enum ISPRounding: String, Codable, Sendable, CaseIterable {
    /// x' = clip(x + delta, 0, 1), kept as it is (the paper's text).
    case none
    /// x' = floor(255 clip(x + delta, 0, 1)) / 255: the authors' code writes the perturbed image back as
    /// uint8 by truncation. With the authors' epsilon the raw delta is far below one grey level, so this
    /// is what makes their ISP change images at all: every pixel with delta < 0 (and x > 0) loses one
    /// grey level, every other pixel keeps its value.
    case authorsUInt8 = "authors-uint8"
}

/// Influence-based sample perturbation (paper Algorithm 2).
public struct ISPSettings: Codable, Sendable, Equatable {
    public var switchEpoch: Int = 15
    /// Share of the training points perturbed (authors: 1.0).
    public var topKRatio: Double = 1.0
    public var ranking: ISPRanking = .helpful
    public var epsilon: Double = 0.1
    public var step: ISPStep = .raw
    /// How the perturbed image is stored; nil means `.none` (and keeps settings saved before it existed readable).
    public var rounding: ISPRounding?
    /// The influence settings ISP scores with: read through `TrainingConfiguration.isp`, the configuration's one
    /// `influence` (shared with ISR), and setting it there sets that. Not stored with ISP's own settings.
    public var influence = InfluenceSettings()

    public init() {}

    /// ISP's own settings; `influence` lives in `TrainingConfiguration` (see `ISRSettings.CodingKeys`).
    private enum CodingKeys: String, CodingKey { case switchEpoch, topKRatio, ranking, epsilon, step, rounding }
}

/// FGSM adversarial training with a uniform random start (Wong, Rice and Kolter 2020); on the [0, 1] scale.
public struct AdversarialSettings: Codable, Sendable, Equatable {
    public var epsilon: Float = 8.0 / 255.0
    /// Step size (Wong et al.: 1.25 epsilon = 10/255).
    public var alpha: Float = 10.0 / 255.0
    /// Steps of the PGD attack (step 2.5 eps / steps, Madry et al.) behind the robust accuracy recorded every epoch.
    public var pgdSteps: Int = 10
    /// Stop at catastrophic overfitting (`TrainingHealth`) and keep the weights of the last good epoch.
    public var earlyStop: Bool = false
    /// Epochs over which the radius and step grow linearly from 0 to epsilon and alpha (0 = the full radius from
    /// the start, as Wong et al.). A curriculum of radii (Cai et al. 2018; the epsilon ramp of Gowal et al. 2018):
    /// at the full radius from random initialisation, training can stay at the trivial solution (loss ln 3).
    public var epsilonWarmupEpochs: Int = 0

    public init() {}

    private enum CodingKeys: String, CodingKey { case epsilon, alpha, pgdSteps, earlyStop, epsilonWarmupEpochs }

    /// Files written before `pgdSteps` and `earlyStop` existed decode with their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epsilon = try c.decode(Float.self, forKey: .epsilon)
        alpha = try c.decode(Float.self, forKey: .alpha)
        pgdSteps = try c.decodeIfPresent(Int.self, forKey: .pgdSteps) ?? 10
        earlyStop = try c.decodeIfPresent(Bool.self, forKey: .earlyStop) ?? false
        epsilonWarmupEpochs = try c.decodeIfPresent(Int.self, forKey: .epsilonWarmupEpochs) ?? 0
    }

    /// The share of epsilon and alpha used in epoch `epoch` (0-based): (epoch + 1) / warm-up epochs, at most 1.
    public func radiusScale(epoch: Int) -> Float {
        epsilonWarmupEpochs <= 0 ? 1 : Swift.min(1, Float(epoch + 1) / Float(epsilonWarmupEpochs))
    }
}

/// Noise2Void denoiser training (Krull et al. reference defaults).
public struct Noise2VoidSettings: Codable, Sendable, Equatable {
    public var depth: Int = 2
    public var firstChannels: Int = 32
    public var patchSize: Int = 64
    /// Share of each patch's pixels masked (0.198%).
    public var maskedFraction: Double = 0.00198
    /// Masked pixels are replaced by a random neighbour within this radius.
    public var neighbourRadius: Int = 5
    public var learningRate: Float = 4e-4
    public var epochs: Int = 10
    public var patchesPerEpoch: Int = 2048
    public var batchSize: Int = 16

    public init() {}
}
