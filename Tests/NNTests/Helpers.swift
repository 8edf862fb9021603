import NN
import Tensor
import TestSupport

/// A seeded random tensor, U(-1, 1).
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor(randomUniform: shape, low: -1, high: 1, generator: &generator)
}

/// The scalar probe used by the finite-difference tests: L(y) = sum_j r_j y_j (in Double), so dL/dy = r.
func probe(_ output: Tensor, _ r: Tensor) -> Double {
    var total = 0.0
    for j in 0..<output.count { total += Double(output.scalars[j]) * Double(r.scalars[j]) }
    return total
}

/// Finite-difference step on Float32 layers, and the worst relative error the tests accept.
enum FiniteDifference {
    static let step: Float = 1e-3
    static let tolerance = Double(Tolerance.finiteDifference)
}

/// Relative difference between kernels computing the same quantity in a different order.
let kernelTolerance: Float = 1e-5

/// Gradient check for functions with kinks (ReLU, max pooling). Perturbing a network parameter moves
/// every unit downstream, so a step of any size may carry some unit across a kink, and a central
/// difference then averages the slopes on both sides (measured: a 7-40% error at h = 1e-3..1e-2 on a few
/// coordinates of a 16-px network while h = 1e-3 matched to 1e-4). The analytic gradient at x equals the
/// slope on both sides of x, so each sampled coordinate is accepted when it matches the central, the
/// forward or the backward difference quotient; a kink on one side leaves the other side's quotient
/// clean. Errors are relative to max(|entry|, a tenth of the largest |entry|, 1e-2): Float32 rounding
/// of the probed sum puts about 1e-4 of absolute noise in each quotient. Returns the worst best match.
func kinkAwareGradientCheck(of f: (Tensor) -> Double, at x: Tensor, analytic: Tensor, step: Float = 1e-3,
                            maxChecks: Int = 24, seed: UInt64 = 7)
    -> (worst: Double, detail: String) {
    let scaleFloor = max(1e-2, 0.1 * Double(analytic.scalars.map { abs($0) }.max() ?? 0))
    var generator = SeededGenerator(seed: seed)
    let indices = x.count <= maxChecks ? Array(0..<x.count) : Array(generator.permutation(x.count).prefix(maxChecks))
    let center = f(x)
    var worst = 0.0, detail = ""
    for i in indices {
        var plus = x, minus = x
        plus.scalars[i] += step
        minus.scalars[i] -= step
        let hPlus = Double(plus.scalars[i]) - Double(x.scalars[i]), hMinus = Double(x.scalars[i]) - Double(minus.scalars[i])
        let (fPlus, fMinus) = (f(plus), f(minus))
        let quotients = [(fPlus - fMinus) / (hPlus + hMinus), (fPlus - center) / hPlus, (center - fMinus) / hMinus]
        let a = Double(analytic.scalars[i])
        let errors = quotients.map { abs(a - $0) / max(abs(a), abs($0), scaleFloor) }
        let best = errors.min() ?? .infinity
        if best > worst { worst = best; detail = "index \(i): analytic \(a), central/forward/backward \(quotients)" }
    }
    return (worst, detail)
}
