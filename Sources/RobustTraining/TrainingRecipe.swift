import Foundation

/// How the learning rate moves over a run.
public enum LearningRateScheduleKind: String, Codable, Sendable, CaseIterable {
    /// The base rate at every step (the authors' recipe: Adam at 0.01 throughout).
    case constant
    /// Cosine decay of the base rate to 0 over the run (Loshchilov and Hutter 2017, SGDR without restarts),
    /// after an optional linear warm-up.
    case cosine
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
    public var batchNormStatistics: BatchNormStatisticsKind
    /// The most training images the precise statistics are recomputed over (a seeded subset when there are
    /// more; 0 = all). Bounds the time and the memory of the recomputation (`CNN.preciseStatistics`).
    public var preciseStatisticsImages: Int

    public init(learningRateSchedule: LearningRateScheduleKind, warmupEpochs: Double = 0, weightAverage: WeightAverageKind,
                emaDecay: Double = 0.99, batchNormStatistics: BatchNormStatisticsKind, preciseStatisticsImages: Int = 512) {
        self.learningRateSchedule = learningRateSchedule
        self.warmupEpochs = warmupEpochs
        self.weightAverage = weightAverage
        self.emaDecay = emaDecay
        self.batchNormStatistics = batchNormStatistics
        self.preciseStatisticsImages = preciseStatisticsImages
    }

    /// The authors' recipe: constant Adam rate, the last step's weights, running statistics.
    public static let paper = TrainingRecipe(learningRateSchedule: .constant, weightAverage: .none, batchNormStatistics: .running)

    /// The default: cosine decay, an EMA of the weights and precise statistics with the clean-validation
    /// adapted figure beside them (chosen by measurement on fold 5; README "Trustworthy numbers").
    public static let stable = TrainingRecipe(learningRateSchedule: .cosine, weightAverage: .ema, emaDecay: 0.99,
                                              batchNormStatistics: .cleanValidation)

    /// Checks the settings a user can get wrong.
    public func validate(epochs: Int) throws(TrainingError) {
        guard warmupEpochs >= 0, warmupEpochs.isFinite, warmupEpochs < Double(epochs) else {
            throw .invalidConfiguration("--warmup-epochs must be in [0, epochs) (got \(warmupEpochs) with \(epochs) epochs)")
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
        var parts = ["lr " + learningRateSchedule.rawValue + (warmupEpochs > 0 ? String(format: " (warm-up %g epochs)", warmupEpochs) : "")]
        parts.append(weightAverage == .ema ? String(format: "EMA %g", emaDecay) : "last weights")
        parts.append("BN " + batchNormStatistics.rawValue)
        return parts.joined(separator: ", ")
    }

    /// The learning rate of update `step` (0-based) of `totalSteps`, with `stepsPerEpoch` updates an epoch:
    ///   warm-up (step < W = round(warmupEpochs x stepsPerEpoch)): base (step + 1) / W;
    ///   constant: base;  cosine: base (1 + cos(pi (step - W) / (totalSteps - W))) / 2.
    public func learningRate(base: Float, step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Float {
        precondition(step >= 0 && totalSteps >= 1 && stepsPerEpoch >= 1, "learningRate: step \(step) of \(totalSteps)")
        let warmup = Int((warmupEpochs * Double(stepsPerEpoch)).rounded())
        if step < warmup { return Float(Double(base) * Double(step + 1) / Double(warmup)) }
        switch learningRateSchedule {
        case .constant:
            return base
        case .cosine:
            let progress = Double(step - warmup) / Double(Swift.max(1, totalSteps - warmup))
            return Float(Double(base) * 0.5 * (1 + cos(Double.pi * Swift.min(progress, 1))))
        }
    }

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
