import Tensor

/// Central finite-difference gradient of a scalar function of a tensor, computed in Double around
/// Float inputs: d f / d x_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h.
///
/// `indices` limits the check to some coordinates (large inputs); by default all are checked.
public func finiteDifferenceGradient(
    of f: (Tensor) -> Double, at x: Tensor, step: Float = 1e-2, indices: [Int]? = nil
) -> [Int: Double] {
    var result: [Int: Double] = [:]
    for i in indices ?? Array(0..<x.count) {
        var plus = x
        plus.scalars[i] += step
        var minus = x
        minus.scalars[i] -= step
        let hPlus = Double(plus.scalars[i]) - Double(x.scalars[i])
        let hMinus = Double(x.scalars[i]) - Double(minus.scalars[i])
        result[i] = (f(plus) - f(minus)) / (hPlus + hMinus)
    }
    return result
}

/// Compares an analytic gradient with finite differences at `indices` (or a seeded sample of at most
/// `maxChecks` coordinates). Returns the worst error, each measured as
/// |analytic - numeric| / max(|analytic|, |numeric|, scaleFloor).
public func gradientCheck(
    of f: (Tensor) -> Double, at x: Tensor, analytic: Tensor, step: Float = 1e-2,
    maxChecks: Int = 64, seed: UInt64 = 7, scaleFloor: Double = 1e-2
) -> (worst: Double, index: Int, analytic: Double, numeric: Double) {
    precondition(x.shape == analytic.shape, "gradientCheck: input \(x.shape) and gradient \(analytic.shape) differ")
    var generator = SeededGenerator(seed: seed)
    let indices = x.count <= maxChecks ? Array(0..<x.count) : Array(generator.permutation(x.count).prefix(maxChecks))
    let numeric = finiteDifferenceGradient(of: f, at: x, step: step, indices: indices)
    var worst = (worst: 0.0, index: -1, analytic: 0.0, numeric: 0.0)
    for i in indices {
        let a = Double(analytic.scalars[i])
        let n = numeric[i]!
        let err = abs(a - n) / max(abs(a), abs(n), scaleFloor)
        if err > worst.worst { worst = (err, i, a, n) }
    }
    return worst
}
