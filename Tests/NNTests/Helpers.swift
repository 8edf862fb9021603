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
