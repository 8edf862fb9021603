import NN
import Tensor

/// What a training run carries from epoch to epoch and saves in its checkpoint.
public struct TrainingState: Sendable {
    public var model: CNN
    public var optimizer: Adam
    /// The images the next epochs train on: the noisy images, or what a method made of them
    /// (ISP's perturbed images, N2V's denoised ones).
    public var trainImages: Tensor
    /// Per-sample loss weights (ISR), nil for the plain mean.
    public var sampleWeights: [Float]?
    /// Epochs completed so far.
    public var completedEpochs: Int
    public var history: [EpochMetrics]
    /// Seconds spent training so far (method phases included, evaluation excluded).
    public var trainSeconds: Double
    /// The exponential moving average of the weights (with `--weight-average ema`), nil otherwise.
    public var averagedModel: CNN? = nil
    /// Adversarial training: the evaluated weights of the epoch with the best PGD robust accuracy so far.
    public var bestRobust: (epoch: Int, model: CNN)? = nil
    /// Set when training stopped before its last epoch (`--at-early-stop`).
    public var earlyStop: EarlyStop? = nil
    /// The models the last epoch was evaluated with (`Trainer.evaluationModels`), while the state has not changed since:
    /// the run saves them instead of recomputing their precise statistics. Not saved in checkpoints.
    public var lastEvaluationModels: (model: CNN, cleanAdapted: CNN?)? = nil
}

/// Training that stopped at catastrophic overfitting and kept an earlier epoch's weights.
public struct EarlyStop: Codable, Sendable, Equatable {
    /// The epoch (1-based) at whose end the collapse was detected.
    public var detectedAtEpoch: Int
    /// The epoch (1-based) whose weights were kept.
    public var keptEpoch: Int

    public init(detectedAtEpoch: Int, keptEpoch: Int) {
        self.detectedAtEpoch = detectedAtEpoch
        self.keptEpoch = keptEpoch
    }
}

/// Read-only context a method receives at its hooks.
public struct MethodContext {
    public let configuration: TrainingConfiguration
    public let data: TrainingData
    public let observer: any TrainingObserver
}

/// A training method as hooks into the shared training loop. The naive method is the identity at every hook.
public protocol TrainingMethod {
    /// Before the first epoch of a fresh run (N2V trains its denoiser and denoises the training images).
    /// Returns a note for the epoch log, or nil.
    mutating func prepare(_ state: inout TrainingState, context: MethodContext) throws -> String?

    /// Before epoch `epoch` (0-based) runs (ISR reweights and ISP perturbs when `epoch` is their T).
    /// Returns what the method did, for the epoch log and record, or nil.
    mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent?

    /// The images the gradient step uses for this batch (AT perturbs them). images: [B, 1, S, S].
    func trainingBatch(_ images: Tensor, labels: [Int], model: CNN, generator: inout SeededGenerator) -> Tensor

    /// Images as the method classifies them at evaluation (N2V denoises first). images: [N, 1, S, S].
    func evaluationImages(_ images: Tensor) -> Tensor

    /// A method-specific figure recorded every epoch for the evaluated model (AT: robust accuracy), or nil.
    func robustAccuracy(of model: CNN, on validation: LabelledImages, epoch: Int, seed: UInt64) -> RobustAccuracy?

    /// Method-specific tensors to save in checkpoints (for example the denoiser), and their restoration.
    func checkpointTensors() -> [(name: String, tensor: Tensor)]
    mutating func restore(from tensors: [String: Tensor]) throws

    /// Files that go beside the finished run's `model.safetensors` because the model is used through them
    /// (N2V: its denoiser, since the model classifies denoised images).
    func modelArtifacts() -> [ModelArtifact]
}

extension TrainingMethod {
    public mutating func prepare(_ state: inout TrainingState, context: MethodContext) throws -> String? { nil }
    public mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent? { nil }
    public func trainingBatch(_ images: Tensor, labels: [Int], model: CNN, generator: inout SeededGenerator) -> Tensor { images }
    public func evaluationImages(_ images: Tensor) -> Tensor { images }
    public func robustAccuracy(of model: CNN, on validation: LabelledImages, epoch: Int, seed: UInt64) -> RobustAccuracy? { nil }
    public func checkpointTensors() -> [(name: String, tensor: Tensor)] { [] }
    public mutating func restore(from tensors: [String: Tensor]) throws {}
    public func modelArtifacts() -> [ModelArtifact] { [] }
}

/// What a method did at the start of an epoch: a note for the epoch log (`EpochMetrics.event`) and the warnings the
/// user must hear about (a fallback it took), recorded with the epoch's warnings (`EpochMetrics.warnings`).
public struct MethodEvent: Sendable, Equatable {
    /// One line: ISR's weights, ISP's perturbation, AT's radius warm-up.
    public var note: String
    /// Each a sentence that says what happened and the option that sets it explicitly.
    public var warnings: [String]

    public init(note: String, warnings: [String] = []) {
        self.note = note
        self.warnings = warnings
    }
}

/// A file a method saves beside a run's model (`TrainingMethod.modelArtifacts`).
public struct ModelArtifact {
    /// The file's name in the run's folder.
    public var fileName: String
    /// Writes the file atomically to the path given.
    public var write: (_ path: String) throws -> Void

    public init(fileName: String, write: @escaping (_ path: String) throws -> Void) {
        self.fileName = fileName
        self.write = write
    }
}

/// Naive training: the CNN on the noisy images as they are.
public struct NaiveMethod: TrainingMethod {
    public init() {}
}
