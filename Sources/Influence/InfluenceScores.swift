import Tensor

/// Upweighting influence of every training point on the mean validation loss (paper Eq. 7) and the
/// vector s_val it is built from.
public struct UpweightingInfluence: Sendable {
    /// I_up,loss(z_i, V) = - s_val . g_i for each training point: [n]. Positive = harmful: upweighting
    /// z_i raises the validation loss; removing z_i changes it by about -(1/n) I_up,loss(z_i, V).
    public var scores: [Double]
    /// s_val = (H + lambda I)^-1 grad_theta L(V): [P]. Also the input of Eq. 8.
    public var inverseHVP: [Double]
    /// grad_theta L(V), the gradient of the mean validation loss: [P].
    public var validationGradient: [Double]
    public var validationLoss: Double
    public var report: InverseHVPReport
}

/// Paper Eq. 7 for every training point of `objective`:
///   s_val = (H + lambda I)^-1 grad_theta L(V)  (one solve, by `solver`),
///   I_up,loss(z_i, V) = - grad_theta L(V)^T (H + lambda I)^-1 g_i = - s_val . g_i,
/// batched as one GEMM through `perSampleGradientDots` (s_val . g_i = (p_i - y_i)^T S x_i).
/// `solver` must have been built for the same objective.
public func upweightingInfluence(
    objective: any LastLayerObjective, validation: LabelledFeatures, solver: any InverseHVPSolver
) throws -> UpweightingInfluence {
    let gradient = objective.meanGradient(on: validation)
    let solved = try solver.solve(gradient)
    let scores = objective.perSampleGradientDots(solved.solution).map { -$0 }
    guard scores.allSatisfy({ $0.isFinite }) else { throw InfluenceError.nonFinite(solver: "influence scores", step: 0) }
    return UpweightingInfluence(scores: scores, inverseHVP: solved.solution, validationGradient: gradient,
                                validationLoss: objective.meanLoss(on: validation), report: solved.report)
}

extension SoftmaxLinearObjective {
    /// The feature-level part of paper Eq. 8. For each training point i, with S = s reshaped [C, D + 1]
    /// = [S_W | s_b] and p(h) = softmax(W h + b):
    ///   f_i(h) = s . grad_theta L(z_i)|_{h_i = h} = (p(h) - y_i)^T (S_W h + s_b),
    ///   d f_i / d h = S_W^T (p - y_i) + W^T (diag p - p p^T) (S_W h + s_b),
    /// evaluated at h = h_i. Returns these gradients as rows: [n, D] (Float). Two GEMMs for all i.
    ///
    /// The caller (the CNN glue) turns it into the image-shaped perturbation influence:
    ///   I_pert,loss(z_i, V) = - d f_i / d x_i = - (backward through the feature extractor, BatchNorm in
    ///   eval mode, from the feature gradient row i) — i.e. backpropagate the NEGATED rows to the input.
    /// ISP's step delta = -epsilon * I_pert,loss is then + epsilon * (backward of the rows as returned).
    /// s is `UpweightingInfluence.inverseHVP`.
    public func perturbationFeatureGradient(inverseHVP s: [Double]) -> Tensor {
        precondition(s.count == parameterCount, "perturbationFeatureGradient: s has \(s.count) entries, P = \(parameterCount)")
        let n = trainingCount, d = featureCount, k = d + 1, c = classCount
        let e = Self.residuals(probabilities: probabilities, labels: labels, weights: nil, classCount: c)
        var r = Self.designTimes(design, rows: n, width: k, s, classCount: c)   // u_i = S_W h_i + s_b
        for i in 0..<n {
            var pu = 0.0
            for a in 0..<c { pu += probabilities[i * c + a] * r[i * c + a] }
            for a in 0..<c { r[i * c + a] = probabilities[i * c + a] * (r[i * c + a] - pu) }
        }
        var g = [Double](repeating: 0, count: n * d)
        if n > 0 && d > 0 {
            e.withUnsafeBufferPointer { pe in
                r.withUnsafeBufferPointer { pr in
                    s.withUnsafeBufferPointer { ps in
                        parameters.withUnsafeBufferPointer { pt in
                            g.withUnsafeMutableBufferPointer { pg in
                                // (P - Y) S_W, then + R W; the [C, k] matrices are read with leading dimension k.
                                BLAS.dgemm(transposeA: false, transposeB: false, m: n, n: d, k: c,
                                           a: pe.baseAddress!, lda: c, b: ps.baseAddress!, ldb: k,
                                           c: pg.baseAddress!, ldc: d)
                                BLAS.dgemm(transposeA: false, transposeB: false, m: n, n: d, k: c,
                                           a: pr.baseAddress!, lda: c, b: pt.baseAddress!, ldb: k,
                                           beta: 1, c: pg.baseAddress!, ldc: d)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, d], scalars: g.map { Float($0) })
    }
}
