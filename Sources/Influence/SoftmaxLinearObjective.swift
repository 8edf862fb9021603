#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tensor

/// Softmax cross-entropy on a linear last layer, in closed form (PAPER.md, "Influence functions").
///
/// Legend: n = training samples, D = feature dimension, C = classes, k = D + 1, P = C * k.
/// theta = [W | b] flattened row-major as [C, k] (W: [C, D], b: [C]); x_i = [h_i; 1]: [k].
///   p_i = softmax(W h_i + b),  L(z_i) = -log p_{i, y_i},
///   g_i = grad_theta L(z_i) = (p_i - y_i) x_i^T                     ([C, k], y_i one-hot),
///   Hess L(z_i) = (diag p_i - p_i p_i^T) (Kronecker) x_i x_i^T       ([P, P]),
///   R(theta) = (1/n) sum_i w_i L(z_i), with sample weights w_i >= 0 (default 1).
/// Everything is computed in Double from the Float features.
public struct SoftmaxLinearObjective: LastLayerObjective {
    public let classCount: Int
    public let featureCount: Int
    public let trainingCount: Int
    public let parameters: [Double]
    public let labels: [Int]
    public let sampleWeights: [Double]
    /// X: [n, k], rows [h_i; 1].
    public let design: [Double]
    /// P: [n, C], rows p_i at `parameters`.
    public let probabilities: [Double]

    public var parameterCount: Int { classCount * (featureCount + 1) }

    /// training: features [n, D] and labels; weight: [C, D]; bias: [C] (the CNN's final Linear layer).
    public init(training: LabelledFeatures, weight: Tensor, bias: Tensor, sampleWeights: [Double]? = nil) {
        precondition(weight.rank == 2 && weight.shape[1] == training.featureCount && bias.shape == [weight.shape[0]],
                     "SoftmaxLinearObjective: weight \(weight.shape), bias \(bias.shape), features \(training.features.shape)")
        let c = weight.shape[0], d = weight.shape[1]
        var theta = [Double](repeating: 0, count: c * (d + 1))
        for row in 0..<c {
            for j in 0..<d { theta[row * (d + 1) + j] = Double(weight.scalars[row * d + j]) }
            theta[row * (d + 1) + d] = Double(bias.scalars[row])
        }
        self.init(training: training, classCount: c, parameters: theta, sampleWeights: sampleWeights)
    }

    /// theta given directly: [C * (D + 1)], row-major [C, D + 1].
    public init(training: LabelledFeatures, classCount: Int, parameters: [Double], sampleWeights: [Double]? = nil) {
        self.init(design: Self.designMatrix(training.features), labels: training.labels, featureCount: training.featureCount,
                  classCount: classCount, parameters: parameters, sampleWeights: sampleWeights)
    }

    private init(design: [Double], labels: [Int], featureCount: Int, classCount: Int, parameters: [Double],
                 sampleWeights: [Double]?) {
        let n = labels.count, k = featureCount + 1
        precondition(parameters.count == classCount * k,
                     "SoftmaxLinearObjective: theta has \(parameters.count) entries, expected C * (D + 1) = \(classCount) * \(k)")
        precondition(labels.allSatisfy { (0..<classCount).contains($0) },
                     "SoftmaxLinearObjective: labels must lie in 0..<\(classCount)")
        let weights = sampleWeights ?? [Double](repeating: 1, count: n)
        precondition(weights.count == n && weights.allSatisfy { $0 >= 0 },
                     "SoftmaxLinearObjective: need \(n) non-negative sample weights, got \(weights.count)")
        self.classCount = classCount
        self.featureCount = featureCount
        self.trainingCount = n
        self.parameters = parameters
        self.labels = labels
        self.sampleWeights = weights
        self.design = design
        self.probabilities = Self.softmax(design: design, rows: n, width: k, theta: parameters, classCount: classCount).probabilities
    }

    /// The same problem at another theta (features, labels and weights shared, not copied).
    public func withParameters(_ theta: [Double]) -> SoftmaxLinearObjective {
        SoftmaxLinearObjective(design: design, labels: labels, featureCount: featureCount, classCount: classCount,
                               parameters: theta, sampleWeights: sampleWeights)
    }

    /// The same problem with other sample weights w_i (e.g. 0 to leave a point out).
    public func withSampleWeights(_ weights: [Double]) -> SoftmaxLinearObjective {
        SoftmaxLinearObjective(design: design, labels: labels, featureCount: featureCount, classCount: classCount,
                               parameters: parameters, sampleWeights: weights)
    }

    // MARK: Closed forms

    /// [h_i; 1] rows: features [n, D] -> [n, D + 1] in Double.
    static func designMatrix(_ features: Tensor) -> [Double] {
        let n = features.shape[0], d = features.shape[1], k = d + 1
        var x = [Double](repeating: 1, count: n * k)
        for i in 0..<n {
            for j in 0..<d { x[i * k + j] = Double(features.scalars[i * d + j]) }
        }
        return x
    }

    /// Probabilities [rows, C] and per-row losses -log p_{i, label} (if labels are given), stably.
    static func softmax(design: [Double], rows: Int, width k: Int, theta: [Double], classCount c: Int,
                        labels: [Int]? = nil) -> (probabilities: [Double], losses: [Double]) {
        var z = [Double](repeating: 0, count: rows * c)
        if rows > 0 {
            design.withUnsafeBufferPointer { x in
                theta.withUnsafeBufferPointer { t in
                    z.withUnsafeMutableBufferPointer { out in
                        BLAS.dgemm(transposeA: false, transposeB: true, m: rows, n: c, k: k,
                                   a: x.baseAddress!, lda: k, b: t.baseAddress!, ldb: k, c: out.baseAddress!, ldc: c)
                    }
                }
            }
        }
        var losses = [Double](repeating: 0, count: labels == nil ? 0 : rows)
        for i in 0..<rows {
            var top = -Double.infinity
            for a in 0..<c { top = Swift.max(top, z[i * c + a]) }
            var total = 0.0
            for a in 0..<c { total += exp(z[i * c + a] - top) }
            let logNormalizer = top + log(total)
            if let labels { losses[i] = logNormalizer - z[i * c + labels[i]] }
            for a in 0..<c { z[i * c + a] = exp(z[i * c + a] - logNormalizer) }
        }
        return (z, losses)
    }

    /// E_ic = w_i (p_ic - [c == y_i]): [rows, C].
    static func residuals(probabilities: [Double], labels: [Int], weights: [Double]?, classCount c: Int) -> [Double] {
        var e = probabilities
        for i in 0..<labels.count {
            e[i * c + labels[i]] -= 1
            if let weights { for a in 0..<c { e[i * c + a] *= weights[i] } }
        }
        return e
    }

    /// (scale) E^T X: [C, k] from E: [rows, C], X: [rows, k].
    static func residualTimesDesign(_ e: [Double], _ x: [Double], rows: Int, width k: Int, classCount c: Int,
                                    scale: Double) -> [Double] {
        var out = [Double](repeating: 0, count: c * k)
        guard rows > 0 else { return out }
        e.withUnsafeBufferPointer { pe in
            x.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer { po in
                    BLAS.dgemm(transposeA: true, transposeB: false, m: c, n: k, k: rows, alpha: scale,
                               a: pe.baseAddress!, lda: c, b: px.baseAddress!, ldb: k, c: po.baseAddress!, ldc: k)
                }
            }
        }
        return out
    }

    /// X V^T: [rows, C] for V: [C, k] (a theta-shaped vector).
    static func designTimes(_ x: [Double], rows: Int, width k: Int, _ v: [Double], classCount c: Int) -> [Double] {
        var u = [Double](repeating: 0, count: rows * c)
        guard rows > 0 else { return u }
        x.withUnsafeBufferPointer { px in
            v.withUnsafeBufferPointer { pv in
                u.withUnsafeMutableBufferPointer { pu in
                    BLAS.dgemm(transposeA: false, transposeB: true, m: rows, n: c, k: k,
                               a: px.baseAddress!, lda: k, b: pv.baseAddress!, ldb: k, c: pu.baseAddress!, ldc: c)
                }
            }
        }
        return u
    }

    // MARK: LastLayerObjective

    public func meanTrainingLoss() -> Double {
        let k = featureCount + 1
        let losses = Self.softmax(design: design, rows: trainingCount, width: k, theta: parameters,
                                  classCount: classCount, labels: labels).losses
        var total = 0.0
        for i in 0..<trainingCount { total += sampleWeights[i] * losses[i] }
        return total / Double(trainingCount)
    }

    public func meanTrainingGradient() -> [Double] {
        let e = Self.residuals(probabilities: probabilities, labels: labels, weights: sampleWeights, classCount: classCount)
        return Self.residualTimesDesign(e, design, rows: trainingCount, width: featureCount + 1, classCount: classCount,
                                        scale: 1 / Double(trainingCount))
    }

    public func meanLoss(on set: LabelledFeatures) -> Double {
        precondition(set.featureCount == featureCount, "meanLoss: set has D = \(set.featureCount), objective \(featureCount)")
        let losses = Self.softmax(design: Self.designMatrix(set.features), rows: set.count, width: featureCount + 1,
                                  theta: parameters, classCount: classCount, labels: set.labels).losses
        return losses.reduce(0, +) / Double(Swift.max(1, set.count))
    }

    public func meanGradient(on set: LabelledFeatures) -> [Double] {
        precondition(set.featureCount == featureCount, "meanGradient: set has D = \(set.featureCount), objective \(featureCount)")
        let k = featureCount + 1
        let x = Self.designMatrix(set.features)
        let p = Self.softmax(design: x, rows: set.count, width: k, theta: parameters, classCount: classCount).probabilities
        let e = Self.residuals(probabilities: p, labels: set.labels, weights: nil, classCount: classCount)
        return Self.residualTimesDesign(e, x, rows: set.count, width: k, classCount: classCount,
                                        scale: 1 / Double(Swift.max(1, set.count)))
    }

    public func perSampleGradients(samples: [Int]) -> [[Double]] {
        let k = featureCount + 1, c = classCount
        return samples.map { i in
            var g = [Double](repeating: 0, count: c * k)
            for a in 0..<c {
                let e = probabilities[i * c + a] - (labels[i] == a ? 1 : 0)
                for j in 0..<k { g[a * k + j] = e * design[i * k + j] }
            }
            return g
        }
    }

    /// s . g_i = (p_i - y_i)^T S x_i with S = s reshaped [C, k]: one GEMM X S^T for all i.
    public func perSampleGradientDots(_ s: [Double]) -> [Double] {
        precondition(s.count == parameterCount, "perSampleGradientDots: s has \(s.count) entries, P = \(parameterCount)")
        let c = classCount
        let q = Self.designTimes(design, rows: trainingCount, width: featureCount + 1, s, classCount: c)
        let e = Self.residuals(probabilities: probabilities, labels: labels, weights: nil, classCount: c)
        return (0..<trainingCount).map { i in
            var total = 0.0
            for a in 0..<c { total += e[i * c + a] * q[i * c + a] }
            return total
        }
    }

    /// H v = (1/m) sum_i w_i [(diag p_i - p_i p_i^T) (V x_i)] x_i^T, V = v reshaped [C, k]:
    /// U = X V^T, r_i = w_i (p_i * u_i - p_i (p_i . u_i)), H v = R^T X / m.
    public func hessianVectorProduct(_ v: [Double], samples: [Int]?) -> [Double] {
        precondition(v.count == parameterCount, "hessianVectorProduct: v has \(v.count) entries, P = \(parameterCount)")
        let k = featureCount + 1, c = classCount
        let rows: [Int]? = samples
        let m = rows?.count ?? trainingCount
        var x = design
        if let rows {
            x = [Double](repeating: 0, count: m * k)
            for (r, i) in rows.enumerated() {
                precondition(i >= 0 && i < trainingCount, "hessianVectorProduct: sample \(i) out of 0..<\(trainingCount)")
                for j in 0..<k { x[r * k + j] = design[i * k + j] }
            }
        }
        var u = Self.designTimes(x, rows: m, width: k, v, classCount: c)
        for r in 0..<m {
            let i = rows?[r] ?? r
            var pu = 0.0
            for a in 0..<c { pu += probabilities[i * c + a] * u[r * c + a] }
            for a in 0..<c { u[r * c + a] = sampleWeights[i] * probabilities[i * c + a] * (u[r * c + a] - pu) }
        }
        return Self.residualTimesDesign(u, x, rows: m, width: k, classCount: c, scale: 1 / Double(Swift.max(1, m)))
    }

    /// Dense H = (1/n) sum_i w_i (diag p_i - p_i p_i^T) (Kronecker) x_i x_i^T: [P, P].
    /// Block (a, c) = (1/n) X^T diag(w_i p_ia (delta_ac - p_ic)) X is a weighted Gram matrix whose weights
    /// are >= 0 on the diagonal blocks and <= 0 off it, so each is one symmetric rank-n update (dsyrk)
    /// of sqrt|weight| * X. Since sum_c p_ia (delta_ac - p_ic) = 0, the blocks of each block-row sum to
    /// zero: only the blocks with a <= c < C - 1 are computed ((C - 1) C / 2 dsyrk calls: 3 for C = 3),
    /// the last block-column and block-row follow by subtraction. Each block's sum over samples is split
    /// into `Parallel.reductionPieces` contiguous pieces (one dsyrk each, OpenBLAS at its current thread count),
    /// computed by `threads` workers and added in piece order, so the result does not depend on `threads`.
    public func hessian(threads: Int) -> [Double] {
        let n = trainingCount, k = featureCount + 1, c = classCount, order = parameterCount
        var h = [Double](repeating: 0, count: order * order)
        let pieces = Swift.max(1, Swift.min(Parallel.reductionPieces, n))
        var scaled = [Double](repeating: 0, count: n * k)
        var partials = [Double](repeating: 0, count: pieces * k * k)
        // blocks[a][b] for a, b < C - 1 (symmetric in a, b), kept to derive the last block-row.
        var rowSums = [[Double]](repeating: [Double](repeating: 0, count: k * k), count: c)
        for a in 0..<(c - 1) {
            for b in a..<(c - 1) {
                for i in 0..<n {
                    let pa = probabilities[i * c + a], pb = probabilities[i * c + b]
                    let weight = sampleWeights[i] * (a == b ? pa * (1 - pa) : pa * pb)
                    let root = Swift.max(0, weight).squareRoot()
                    for j in 0..<k { scaled[i * k + j] = root * design[i * k + j] }
                }
                let alpha = (a == b ? 1.0 : -1.0) / Double(n)
                Self.gramPieces(scaled, rows: n, width: k, alpha: alpha, pieces: pieces, threads: threads, into: &partials)
                var block = Array(partials[0..<(k * k)])
                for piece in 1..<pieces { Linalg.axpy(1, Array(partials[(piece * k * k)..<((piece + 1) * k * k)]), &block) }
                Self.mirrorUpperTriangle(&block, order: k)
                Self.place(block, in: &h, order: order, width: k, blockRow: a, blockColumn: b)
                Linalg.axpy(1, block, &rowSums[a])
                if a != b {
                    Self.place(block, in: &h, order: order, width: k, blockRow: b, blockColumn: a)
                    Linalg.axpy(1, block, &rowSums[b])
                }
            }
        }
        // Block (a, C-1) = -sum_{b < C-1} block (a, b); block (C-1, C-1) = -sum_{a < C-1} block (a, C-1).
        var last = [Double](repeating: 0, count: k * k)
        for a in 0..<(c - 1) {
            let negated = rowSums[a].map { -$0 }
            Self.place(negated, in: &h, order: order, width: k, blockRow: a, blockColumn: c - 1)
            Self.place(negated, in: &h, order: order, width: k, blockRow: c - 1, blockColumn: a)
            Linalg.axpy(1, rowSums[a], &last)
        }
        Self.place(last, in: &h, order: order, width: k, blockRow: c - 1, blockColumn: c - 1)
        return h
    }

    /// The upper triangle of alpha X_p^T X_p for each of `pieces` contiguous row ranges X_p of x [rows, width],
    /// on `threads` workers, into partials[p * width * width ..< (p + 1) * width * width].
    static func gramPieces(_ x: [Double], rows: Int, width k: Int, alpha: Double, pieces: Int, threads: Int,
                           into partials: inout [Double]) {
        precondition(partials.count >= pieces * k * k, "gramPieces: \(partials.count) entries for \(pieces) pieces of \(k)x\(k)")
        x.withUnsafeBufferPointer { px in
            partials.withUnsafeMutableBufferPointer { pp in
                let source = UncheckedSendable(px.baseAddress!), target = UncheckedSendable(pp.baseAddress!)
                Parallel.forEachPiece(count: rows, pieces: pieces, threads: threads) { piece, range in
                    Linalg.gramUpper(n: range.count, k: k, alpha: alpha, a: source.value + range.lowerBound * k, lda: k,
                                     beta: 0, c: target.value + piece * k * k, ldc: k)
                }
            }
        }
    }

    /// Copies the upper triangle of a [k, k] matrix onto its lower triangle (in cache-sized tiles).
    static func mirrorUpperTriangle(_ m: inout [Double], order k: Int) {
        let tile = 64
        m.withUnsafeMutableBufferPointer { p in
            for j0 in stride(from: 0, to: k, by: tile) {
                for l0 in stride(from: j0, to: k, by: tile) {
                    for j in j0..<Swift.min(j0 + tile, k) {
                        for l in Swift.max(l0, j + 1)..<Swift.min(l0 + tile, k) {
                            p[l * k + j] = p[j * k + l]
                        }
                    }
                }
            }
        }
    }

    /// Writes the [k, k] `block` at block position (blockRow, blockColumn) of the [P, P] matrix `h`.
    static func place(_ block: [Double], in h: inout [Double], order: Int, width k: Int, blockRow: Int, blockColumn: Int) {
        h.withUnsafeMutableBufferPointer { ph in
            block.withUnsafeBufferPointer { pb in
                for j in 0..<k {
                    let destination = ph.baseAddress! + (blockRow * k + j) * order + blockColumn * k
                    destination.update(from: pb.baseAddress! + j * k, count: k)
                }
            }
        }
    }

    /// lambda_max(w_i (diag p - p p^T) (Kronecker) x x^T) = w_i lambda_max(diag p - p p^T) ||x||^2, and
    /// lambda_max(diag p - p p^T) <= min(max_c p_c, max_c 2 p_c (1 - p_c)) (diag p dominates; Gershgorin).
    public func perSampleCurvatureBounds() -> [Double] {
        let k = featureCount + 1, c = classCount
        return (0..<trainingCount).map { i in
            var largestP = 0.0, gershgorin = 0.0
            for a in 0..<c {
                let p = probabilities[i * c + a]
                largestP = Swift.max(largestP, p)
                gershgorin = Swift.max(gershgorin, 2 * p * (1 - p))
            }
            var squaredNorm = 0.0
            for j in 0..<k { squaredNorm += design[i * k + j] * design[i * k + j] }
            return sampleWeights[i] * Swift.min(largestP, gershgorin) * squaredNorm
        }
    }
}
