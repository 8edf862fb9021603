import Foundation
import NN
import RobustTraining
import Tensor

/// What the figures need from one run beyond its metrics: a few training images as the method left them
/// (the paper's Figures 1 and 2) and the influence scores of ISR and ISP. Stored beside the run as
/// `artifacts.safetensors`.
public struct RunArtifacts: Sendable {
    /// Positions (in the training set) of the example images, one per class where possible.
    public var examplePositions: [Int]
    public var exampleLabels: [Int]
    /// [k, 1, S, S] each.
    public var clean: Tensor?
    public var noisy: Tensor
    /// The examples as the method trains on them: noisy (naive, ISR), adversarial (AT, on the final
    /// model), perturbed (ISP), denoised (N2V).
    public var methodVersion: Tensor
    public var masks: Tensor?
    public var influenceScores: [Float]?

    /// Picks one training image per class: the one with the largest tumour mask among the class's first
    /// 32 (or the first, without masks).
    public static func examplePositions(data: TrainingData, classes: Int) -> [Int] {
        (0..<classes).compactMap { c -> Int? in
            let members = Array(data.train.labels.indices.filter { data.train.labels[$0] == c }.prefix(32))
            guard let masks = data.trainMasks(items: members) else { return members.first }
            let size = masks.itemCount
            func area(_ k: Int) -> Float { masks.scalars[(k * size)..<((k + 1) * size)].reduce(0, +) }
            return members.indices.max { area($0) < area($1) }.map { members[$0] }
        }
    }

    /// Collects the artifacts of a finished run.
    public static func collect(state: TrainingState, method: AnyTrainingMethod, data: TrainingData, seed: UInt64) -> RunArtifacts {
        let positions = examplePositions(data: data, classes: state.model.configuration.classes)
        let labels = positions.map { data.train.labels[$0] }
        var generator = SeededGenerator(seed: seed, purpose: .figureExamples)
        let current = state.trainImages.gathered(items: positions)
        let version = method.trainingBatch(current, labels: labels, model: state.model, generator: &generator)
        let scores = method.checkpointTensors().first { $0.name == "influence_scores" }?.tensor.scalars
        return RunArtifacts(
            examplePositions: positions, exampleLabels: labels, clean: data.trainClean(items: positions),
            noisy: data.train.images.gathered(items: positions), methodVersion: version,
            masks: data.trainMasks(items: positions), influenceScores: scores)
    }

    public func write(to path: String) throws {
        var file = SafetensorsFile(metadata: [SavedFileKind.metadataKey: SavedFileKind.runArtifacts.rawValue])
        file.set("example_positions", Tensor(shape: [examplePositions.count], scalars: examplePositions.map(Float.init)))
        file.set("example_labels", Tensor(shape: [exampleLabels.count], scalars: exampleLabels.map(Float.init)))
        if let clean { file.set("clean", clean) }
        file.set("noisy", noisy)
        file.set("method_version", methodVersion)
        if let masks { file.set("masks", masks) }
        if let influenceScores { file.set("influence_scores", Tensor(shape: [influenceScores.count], scalars: influenceScores)) }
        try file.write(to: path)
    }

    public static func read(from path: String) throws -> RunArtifacts {
        let file = try SafetensorsFile.read(from: path)
        func optional(_ name: String) throws -> Tensor? { file[name] == nil ? nil : try file.tensor(name) }
        /// A tensor of positions or labels (stored as F32) as whole numbers, checked: a NaN, an infinity or a
        /// fraction is a corrupt file, not a crash.
        func wholeNumbers(_ name: String) throws -> [Int] {
            try file.tensor(name).scalars.map { value in
                guard let whole = Int(exactly: value), whole >= 0 else {
                    throw CheckpointError.badValues(file: path, tensor: name, detail: "holds \(value), not a position or label (a whole number >= 0)")
                }
                return whole
            }
        }
        return RunArtifacts(
            examplePositions: try wholeNumbers("example_positions"),
            exampleLabels: try wholeNumbers("example_labels"),
            clean: try optional("clean"), noisy: try file.tensor("noisy"), methodVersion: try file.tensor("method_version"),
            masks: try optional("masks"), influenceScores: try optional("influence_scores")?.scalars)
    }
}
