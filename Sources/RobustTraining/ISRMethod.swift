import Foundation
import Tensor

/// Influence-based sample reweighing (paper Algorithm 1): train T epochs normally; before epoch T
/// (0-based, i.e. after T finished epochs) score every training point by I_up,loss(z_i, V) (Eq. 7) with
/// the model at that moment, min-max scale the scores into weights in [1, alpha], and train the remaining
/// epochs on the weighted loss (1/n) sum_i w_i L(z_i) (`TrainingState.sampleWeights`).
/// Direction (PAPER.md, "ISR"): `harmfulUp` scales I_up (paper text), `helpfulUp` scales -I_up (authors' code).
public struct ISRMethod: TrainingMethod {
    public let settings: ISRSettings
    /// I_up,loss per training point, once computed (or restored): [n].
    public private(set) var scores: [Double]?
    public private(set) var weights: [Float]?

    public init(settings: ISRSettings) {
        self.settings = settings
    }

    /// Min-max scaling into [1, alpha]: w_i = 1 + (alpha - 1) (v_i - min v) / (max v - min v), with
    /// v = I_up (`harmfulUp`) or -I_up (`helpfulUp`). Constant scores give every point weight 1.
    public static func weights(scores: [Double], alpha: Double, direction: ISRDirection) -> [Float] {
        let values = direction == .harmfulUp ? scores : scores.map { -$0 }
        guard let low = values.min(), let high = values.max(), high > low else {
            return [Float](repeating: 1, count: scores.count)
        }
        return values.map { Float(1 + (alpha - 1) * ($0 - low) / (high - low)) }
    }

    public mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent? {
        guard epoch == settings.switchEpoch else { return nil }
        let (_, result, _) = try InfluenceComputation.atSwitch(settings.influence, state: state, context: context)
        let w = Self.weights(scores: result.scores, alpha: settings.alpha, direction: settings.direction)
        scores = result.scores
        weights = w
        state.sampleWeights = w
        let note = "ISR: weights in [" + String(format: "%g", Double(w.min() ?? 1)) + ", " + String(format: "%g", Double(w.max() ?? 1))
            + "] (\(settings.direction.rawValue)), " + result.summary
        return MethodEvent(note: note, warnings: result.warnings)
    }

    public func checkpointTensors() -> [(name: String, tensor: Tensor)] {
        guard let scores, let weights else { return [] }
        return [("influence_scores", InfluenceTensors.tensor(scores)),
                ("isr_weights", Tensor(shape: [weights.count], scalars: weights))]
    }

    public mutating func restore(from tensors: [String: Tensor]) throws {
        scores = tensors["influence_scores"].map { $0.scalars.map(Double.init) }
        weights = tensors["isr_weights"]?.scalars
    }
}

/// Conversions for the influence methods' checkpoint tensors.
enum InfluenceTensors {
    /// [n] Float tensor of Double values (checkpoints and reports only; the run does not read them back).
    static func tensor(_ values: [Double]) -> Tensor {
        Tensor(shape: [values.count], scalars: values.map { Float($0) })
    }
}
