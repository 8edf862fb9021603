import Foundation
import Tensor

/// Softmax cross-entropy with optional per-sample weights.
///
/// L_i = logsumexp(z_i) - z_i[y_i] (computed with the max subtracted, so it never overflows);
/// loss = (1/N) sum_i w_i L_i (w_i = 1 without weights: the usual mean);
/// d loss / d z_i = (w_i / N) (softmax(z_i) - onehot(y_i)).
/// The weighted form is the reweighted training loss of ISR (paper: weights from influence scores).
public enum SoftmaxCrossEntropy {
    public struct Result: Sendable {
        /// L_i, unweighted: [N]
        public let losses: [Float]
        /// (1/N) sum_i w_i L_i
        public let loss: Float
        /// d loss / d logits: [N, classes]
        public let dlogits: Tensor
    }

    /// logits: [N, classes]; labels: N class indices; weights: N values or nil.
    public static func evaluate(logits: Tensor, labels: [Int], weights: [Float]? = nil) -> Result {
        precondition(logits.rank == 2, "SoftmaxCrossEntropy: logits must be [N, classes], got \(logits.shape)")
        let n = logits.shape[0], k = logits.shape[1]
        precondition(labels.count == n, "SoftmaxCrossEntropy: \(labels.count) labels for logits \(logits.shape)")
        precondition(weights == nil || weights?.count == n, "SoftmaxCrossEntropy: \(weights?.count ?? 0) weights for \(n) samples")
        var losses = [Float](repeating: 0, count: n)
        var dlogits = Tensor(zeros: [n, k])
        var total = 0.0
        for i in 0..<n {
            let label = labels[i]
            precondition(label >= 0 && label < k, "SoftmaxCrossEntropy: label \(label) of sample \(i) is outside 0..<\(k)")
            let row = Array(logits.scalars[(i * k)..<(i * k + k)])
            let top = row.max() ?? 0
            var sumExp = 0.0
            for v in row { sumExp += Foundation.exp(Double(v - top)) }
            let logSumExp = Double(top) + Foundation.log(sumExp)
            let li = logSumExp - Double(row[label])
            losses[i] = Float(li)
            let w = Double(weights?[i] ?? 1)
            total += w * li
            let scale = w / Double(n)
            for j in 0..<k {
                let p = Foundation.exp(Double(row[j]) - logSumExp)
                dlogits.scalars[i * k + j] = Float(scale * (p - (j == label ? 1 : 0)))
            }
        }
        return Result(losses: losses, loss: Float(total / Double(max(n, 1))), dlogits: dlogits)
    }
}
