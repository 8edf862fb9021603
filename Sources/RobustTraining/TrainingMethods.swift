import NN
import Tensor

/// A training method behind one concrete type, so that the trainer (generic over its method) can run
/// whichever method a configuration names.
public struct AnyTrainingMethod: TrainingMethod {
    public private(set) var base: any TrainingMethod

    public init(_ base: any TrainingMethod) {
        self.base = base
    }

    public mutating func prepare(_ state: inout TrainingState, context: MethodContext) throws -> String? {
        try base.prepare(&state, context: context)
    }

    public mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent? {
        try base.beginEpoch(epoch, state: &state, context: context)
    }

    public func trainingBatch(_ images: Tensor, labels: [Int], model: CNN, generator: inout SeededGenerator) -> Tensor {
        base.trainingBatch(images, labels: labels, model: model, generator: &generator)
    }

    public func evaluationImages(_ images: Tensor) -> Tensor {
        base.evaluationImages(images)
    }

    public func robustAccuracy(of model: CNN, on validation: LabelledImages, epoch: Int, seed: UInt64) -> RobustAccuracy? {
        base.robustAccuracy(of: model, on: validation, epoch: epoch, seed: seed)
    }

    public func checkpointTensors() -> [(name: String, tensor: Tensor)] {
        base.checkpointTensors()
    }

    public mutating func restore(from tensors: [String: Tensor]) throws {
        try base.restore(from: tensors)
    }

    public func modelArtifacts() -> [ModelArtifact] {
        base.modelArtifacts()
    }
}

/// The method a configuration names.
public enum TrainingMethods {
    public static func make(for configuration: TrainingConfiguration) throws -> AnyTrainingMethod {
        switch configuration.method {
        case .naive:
            return AnyTrainingMethod(NaiveMethod())
        case .isr:
            return AnyTrainingMethod(ISRMethod(settings: configuration.isr))
        case .isp:
            return AnyTrainingMethod(ISPMethod(settings: configuration.isp))
        case .at:
            return AnyTrainingMethod(AdversarialMethod(settings: configuration.adversarial))
        case .n2v:
            return AnyTrainingMethod(Noise2VoidMethod(settings: configuration.noise2void, seed: configuration.seed,
                                                      threads: configuration.threads))
        }
    }
}
