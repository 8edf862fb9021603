import Foundation
import Tensor

/// Influence-based sample perturbation (paper Algorithm 2): train T epochs normally; before epoch T
/// score every training point by I_up,loss (Eq. 7), keep the top-k (`topKRatio`, ranked as
/// `ranking` says), and replace each kept image once by
///   x' = clip(x + delta, 0, 1),  delta = -epsilon I_pert,loss(z, V)  (raw)  or  -epsilon sign(I_pert,loss)  (sign),
/// with I_pert,loss = - grad_x (s . grad_theta L(z)) (Eq. 8); with `rounding` = `.authorsUInt8` the result is
/// then truncated to 8 bits as the authors' code stores it. The remaining epochs train on the new images.
public struct ISPMethod: TrainingMethod {
    public let settings: ISPSettings
    /// I_up,loss per training point (computed or restored): [n].
    public private(set) var scores: [Double]?
    /// The perturbed training points, in ranking order.
    public private(set) var perturbedIndices: [Int]?

    public init(settings: ISPSettings) {
        self.settings = settings
    }

    /// The top-k points: k = max(1, floor(ratio n)); `harmful` = largest I_up, `helpful` = largest -I_up.
    /// Ties keep the lower index first.
    public static func selected(scores: [Double], ratio: Double, ranking: ISPRanking) -> [Int] {
        let k = Swift.min(scores.count, Swift.max(1, Int((ratio * Double(scores.count)).rounded(.down))))
        let sign = ranking == .harmful ? 1.0 : -1.0
        let order = scores.indices.sorted { a, b in
            let va = sign * scores[a], vb = sign * scores[b]
            return va != vb ? va > vb : a < b
        }
        return Array(order.prefix(k))
    }

    /// ISP's pixel change from the perturbation influence: delta = -epsilon I_pert (raw) or
    /// -epsilon sign(I_pert) (sign). iPert: any shape.
    public static func step(_ iPert: Tensor, epsilon: Double, kind: ISPStep) -> Tensor {
        let e = Float(epsilon)
        switch kind {
        case .raw: return Tensor(shape: iPert.shape, scalars: iPert.scalars.map { -e * $0 })
        case .sign: return Tensor(shape: iPert.shape, scalars: iPert.scalars.map { $0 > 0 ? -e : ($0 < 0 ? e : 0) })
        }
    }

    /// A perturbed pixel: clip(x + d, 0, 1), truncated to a multiple of 1/255 for `.authorsUInt8`
    /// (in Float arithmetic, as numpy's float32 `(clip(x + d, 0, 1) * 255).astype(uint8)`).
    @inline(__always)
    public static func perturbed(_ x: Float, _ d: Float, rounding: ISPRounding) -> Float {
        let y = Swift.min(Swift.max(x + d, 0), 1)
        switch rounding {
        case .none: return y
        case .authorsUInt8: return (y * 255).rounded(.down) / 255
        }
    }

    public mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent? {
        guard epoch == settings.switchEpoch else { return nil }
        let (computation, result, model) = try InfluenceComputation.atSwitch(settings.influence, state: state, context: context)
        let chosen = Self.selected(scores: result.scores, ratio: settings.topKRatio, ranking: settings.ranking)
        let clock = ContinuousClock()
        let started = clock.now
        let original = state.trainImages
        var images = state.trainImages
        let itemSize = images.itemCount
        var energy = 0.0
        let rounding = settings.rounding ?? .none
        computation.forEachPerturbationInfluence(result, model: model, images: original, indices: chosen,
                                                 progress: { context.observer.phase("ISP: perturbations", done: $0, of: $1) }) { batch, iPert in
            let delta = Self.step(iPert, epsilon: settings.epsilon, kind: settings.step)
            images.withUnsafeMutableBufferPointer { x in
                for (row, index) in batch.enumerated() {
                    for j in 0..<itemSize {
                        let old = x[index * itemSize + j]
                        let new = Self.perturbed(old, delta.scalars[row * itemSize + j], rounding: rounding)
                        energy += Double((new - old) * (new - old))
                        x[index * itemSize + j] = new
                    }
                }
            }
        }
        state.trainImages = images
        scores = result.scores
        perturbedIndices = chosen
        let seconds = InfluenceComputation.seconds(clock.now - started)
        let rms = (energy / Double(Swift.max(1, chosen.count * itemSize))).squareRoot()
        let note = "ISP: perturbed \(chosen.count) of \(result.scores.count) images (\(settings.ranking.rawValue), \(settings.step.rawValue), "
            + (rounding == .none ? "" : "\(rounding.rawValue), ")
            + "epsilon " + String(format: "%g", settings.epsilon) + ", rms pixel change " + String(format: "%.2e", rms)
            + String(format: ", %.1f s), ", seconds) + result.summary
        return MethodEvent(note: note, warnings: result.warnings)
    }

    public func checkpointTensors() -> [(name: String, tensor: Tensor)] {
        guard let scores, let perturbedIndices else { return [] }
        return [("influence_scores", InfluenceTensors.tensor(scores)),
                ("isp_indices", Tensor(shape: [perturbedIndices.count], scalars: perturbedIndices.map { Float($0) }))]
    }

    public mutating func restore(from tensors: [String: Tensor]) throws {
        scores = tensors["influence_scores"].map { $0.scalars.map(Double.init) }
        perturbedIndices = tensors["isp_indices"].map { $0.scalars.map { Int($0) } }
    }
}
