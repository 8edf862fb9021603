import Foundation

/// How the learning rate moves over a run.
public enum LearningRateScheduleKind: String, Codable, Sendable, CaseIterable {
    /// The base rate at every step (the authors' recipe: Adam at 0.01 throughout).
    case constant
    /// Cosine decay of the base rate to 0 over the run (Loshchilov and Hutter 2017, SGDR without restarts),
    /// after an optional linear warm-up.
    case cosine
    /// Two cosine cycles split at the influence switch epoch T (SGDR with one warm restart, Loshchilov and
    /// Hutter 2017): the rate decays to 0 at T, where ISR/ISP score influence, and restarts at the base rate
    /// for the epochs after T. Every method runs the same schedule.
    case cosineRestart = "cosine-restart"
    /// The base rate, then cosine decay to 0 over the last `decayFraction` of the run ("warm-up, stable, decay",
    /// Hu et al. 2024; trapezoidal in Zhai et al. 2022). With the default quarter and the paper's T = 15 of 20
    /// epochs (the quick preset's 9 of 12), the decay starts at T: the paper's recipe up to the influence step,
    /// the whole decay on the reweighted or perturbed images, and a settled end. Every method runs the same schedule.
    case constantThenCosine = "constant-then-cosine"
}

/// Which weights are evaluated and saved.
public enum WeightAverageKind: String, Codable, Sendable, CaseIterable {
    /// The weights of the last optimiser step.
    case none
    /// An exponential moving average of the weights (and of BatchNorm's buffers) over the optimiser steps
    /// (Polyak and Juditsky 1992; as timm's ModelEmaV2 / TensorFlow's ExponentialMovingAverage).
    case ema
}

/// Which BatchNorm population statistics normalise at evaluation.
public enum BatchNormStatisticsKind: String, Codable, Sendable, CaseIterable {
    /// The running averages updated by the training steps (PyTorch's default; the authors' recipe).
    case running
    /// "Precise BN" (Wu and Johnson 2021): every layer's population mean and variance recomputed for the
    /// weights being evaluated, over the training images as trained on.
    case precise
    /// `precise`, plus a test-time-adapted figure: the clean share of every test set is classified with
    /// statistics recomputed over the clean validation images (label-free; it uses clean images the other
    /// methods do not, so it is reported beside the unadapted figure, never instead of it).
    case cleanValidation = "clean-validation"
}

/// The training recipe around the paper's method: learning-rate schedule, weight averaging and the
/// BatchNorm statistics used for evaluation. `paper` is the authors' recipe exactly; `stable` settles the
/// figures (README, "Trustworthy numbers"). Saved in config.json with every run.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    public var learningRateSchedule: LearningRateScheduleKind
    /// Epochs of linear warm-up from 0 to the base rate before the schedule (0 = none); fractions allowed.
    public var warmupEpochs: Double
    public var weightAverage: WeightAverageKind
    /// The EMA's decay per optimiser step, d in (0, 1): theta_ema <- d_t theta_ema + (1 - d_t) theta with
    /// d_t = min(d, (1 + t) / (10 + t)) after t steps. Its memory is about 1 / (1 - d) steps.
    public var emaDecay: Double
    /// `constant-then-cosine`: the share of the run's steps, in (0, 1], over which the rate decays to 0 at the end.
    public var decayFraction: Double
    public var batchNormStatistics: BatchNormStatisticsKind
    /// The most training images the precise statistics are recomputed over (a seeded subset when there are
    /// more; 0 = all). Bounds the time and the memory of the recomputation (`CNN.preciseStatistics`).
    public var preciseStatisticsImages: Int

    public init(learningRateSchedule: LearningRateScheduleKind, warmupEpochs: Double = 0, weightAverage: WeightAverageKind,
                emaDecay: Double = 0.99, decayFraction: Double = 0.25, batchNormStatistics: BatchNormStatisticsKind,
                preciseStatisticsImages: Int = 512) {
        self.learningRateSchedule = learningRateSchedule
        self.warmupEpochs = warmupEpochs
        self.weightAverage = weightAverage
        self.emaDecay = emaDecay
        self.decayFraction = decayFraction
        self.batchNormStatistics = batchNormStatistics
        self.preciseStatisticsImages = preciseStatisticsImages
    }

    /// The authors' recipe: constant Adam rate, the last step's weights, running statistics.
    public static let paper = TrainingRecipe(learningRateSchedule: .constant, weightAverage: .none, batchNormStatistics: .running)

    /// The default: the paper's constant rate, then cosine decay to 0 over the last quarter (from T = 15 of the
    /// paper's 20 epochs, so ISR and ISP train on their images through the whole decay), an EMA of the weights and
    /// precise statistics with the clean-validation adapted figure beside them (chosen by measurement on fold 5;
    /// README "Trustworthy numbers").
    public static let stable = TrainingRecipe(learningRateSchedule: .constantThenCosine, weightAverage: .ema, emaDecay: 0.99,
                                              decayFraction: 0.25, batchNormStatistics: .cleanValidation)

    enum CodingKeys: String, CodingKey {
        case learningRateSchedule, warmupEpochs, weightAverage, emaDecay, decayFraction, batchNormStatistics, preciseStatisticsImages
    }

    /// Decodes a recipe; one written before `decayFraction` existed gets the default quarter.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(learningRateSchedule: try c.decode(LearningRateScheduleKind.self, forKey: .learningRateSchedule),
                  warmupEpochs: try c.decode(Double.self, forKey: .warmupEpochs),
                  weightAverage: try c.decode(WeightAverageKind.self, forKey: .weightAverage),
                  emaDecay: try c.decode(Double.self, forKey: .emaDecay),
                  decayFraction: try c.decodeIfPresent(Double.self, forKey: .decayFraction) ?? 0.25,
                  batchNormStatistics: try c.decode(BatchNormStatisticsKind.self, forKey: .batchNormStatistics),
                  preciseStatisticsImages: try c.decode(Int.self, forKey: .preciseStatisticsImages))
    }

    /// Checks the settings a user can get wrong.
    public func validate(epochs: Int, switchEpoch: Int) throws(TrainingError) {
        guard warmupEpochs >= 0, warmupEpochs.isFinite, warmupEpochs < Double(epochs) else {
            throw .invalidConfiguration("--warmup-epochs must be in [0, epochs) (got \(warmupEpochs) with \(epochs) epochs)")
        }
        guard decayFraction > 0, decayFraction <= 1 else {
            throw .invalidConfiguration("--decay-fraction must be in (0, 1] (got \(decayFraction)); 0.25 decays over the last quarter of the run")
        }
        if learningRateSchedule == .constantThenCosine, warmupEpochs > Double(epochs) * (1 - decayFraction) {
            throw .invalidConfiguration("the warm-up (\(warmupEpochs) epochs) runs into the decay (the last \(decayFraction) of \(epochs) epochs): shorten --warmup-epochs or lower --decay-fraction")
        }
        if usesSwitchEpoch {
            guard switchEpoch >= 1, switchEpoch < epochs, warmupEpochs < Double(switchEpoch) else {
                throw .invalidConfiguration("--lr-schedule \(learningRateSchedule.rawValue) changes at the switch epoch T, which must lie after the warm-up and before the last epoch (T = \(switchEpoch), warm-up \(warmupEpochs), \(epochs) epochs): set --switch-epoch, or use --lr-schedule cosine")
            }
        }
        guard emaDecay > 0, emaDecay < 1 else {
            throw .invalidConfiguration("--ema-decay must be strictly between 0 and 1 (got \(emaDecay)); 0.99 averages over about 100 steps")
        }
        guard preciseStatisticsImages >= 0 else {
            throw .invalidConfiguration("--precise-images must be 0 (all) or positive (got \(preciseStatisticsImages))")
        }
    }

    /// One line for logs and reports.
    public var summary: String {
        var schedule = "lr " + learningRateSchedule.rawValue
        if learningRateSchedule == .constantThenCosine { schedule += String(format: " (decay over the last %g%%)", 100 * decayFraction) }
        if warmupEpochs > 0 { schedule += String(format: " (warm-up %g epochs)", warmupEpochs) }
        var parts = [schedule]
        parts.append(weightAverage == .ema ? String(format: "EMA %g", emaDecay) : "last weights")
        parts.append("BN " + batchNormStatistics.rawValue)
        return parts.joined(separator: ", ")
    }

    /// The learning rate of update `step` (0-based) of `totalSteps`, with `stepsPerEpoch` updates an epoch and
    /// the influence switch epoch T (`switchEpoch`; S = T x stepsPerEpoch, used by the two schedules that
    /// change at T):
    ///   warm-up (step < W = round(warmupEpochs x stepsPerEpoch)): base (step + 1) / W;
    ///   constant: base;  cosine: c(step - W, totalSteps - W), with c(i, n) = base (1 + cos(pi i / n)) / 2;
    ///   cosine-restart: c(step - W, S - W) before S, c(step - S, totalSteps - S) from S;
    ///   constant-then-cosine: base before D = totalSteps - round(decayFraction x totalSteps), c(step - D, totalSteps - D) from D.
    public func learningRate(base: Float, step: Int, totalSteps: Int, stepsPerEpoch: Int, switchEpoch: Int) -> Float {
        precondition(step >= 0 && totalSteps >= 1 && stepsPerEpoch >= 1, "learningRate: step \(step) of \(totalSteps)")
        let warmup = Int((warmupEpochs * Double(stepsPerEpoch)).rounded())
        if step < warmup { return Float(Double(base) * Double(step + 1) / Double(warmup)) }
        func cosineDecay(_ i: Int, over n: Int) -> Float {
            let progress = Double(i) / Double(Swift.max(1, n))
            return Float(Double(base) * 0.5 * (1 + cos(Double.pi * Swift.min(progress, 1))))
        }
        let switchStep = Swift.min(Swift.max(switchEpoch, 0) * stepsPerEpoch, totalSteps)
        switch learningRateSchedule {
        case .constant:
            return base
        case .cosine:
            return cosineDecay(step - warmup, over: totalSteps - warmup)
        case .cosineRestart:
            return step < switchStep ? cosineDecay(step - warmup, over: switchStep - warmup)
                                     : cosineDecay(step - switchStep, over: totalSteps - switchStep)
        case .constantThenCosine:
            let decayStart = totalSteps - Int((decayFraction * Double(totalSteps)).rounded())
            return step < decayStart ? base : cosineDecay(step - decayStart, over: totalSteps - decayStart)
        }
    }

    /// Whether the schedule changes at the influence switch epoch T (`constant-then-cosine` changes at a share of
    /// the run instead, so that it needs no T for methods without one).
    public var usesSwitchEpoch: Bool { learningRateSchedule == .cosineRestart }

    /// The EMA decay applied after `completedSteps` optimiser steps (1 after the first update).
    public func emaDecay(afterSteps completedSteps: Int) -> Double {
        Swift.min(emaDecay, Double(1 + completedSteps) / Double(10 + completedSteps))
    }
}

extension TrainingRecipe {
    /// Named recipes for `--recipe`.
    public enum Preset: String, Codable, Sendable, CaseIterable {
        case paper
        case stable

        public var recipe: TrainingRecipe {
            switch self {
            case .paper: return .paper
            case .stable: return .stable
            }
        }
    }
}
