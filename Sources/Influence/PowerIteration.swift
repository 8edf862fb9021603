import Tensor

/// The largest eigenvalue of a symmetric positive semi-definite operator, by power iteration.
public struct EigenvalueEstimate: Codable, Sendable, Equatable {
    /// The Rayleigh quotient q^T A q of the last unit iterate q (a lower bound on lambda_max).
    public var value: Double
    public var iterations: Int
    /// True when successive estimates changed by less than the relative tolerance.
    public var converged: Bool
}

/// Power iteration q <- A q / ||A q|| from a seeded Gaussian start, stopping when the Rayleigh quotient
/// changes by less than `relativeTolerance` (relative) or after `maxIterations`. The estimate
/// approaches lambda_max from below, at a rate set by the gap lambda_2 / lambda_max.
/// apply: v [dimension] -> A v [dimension].
public func largestEigenvalue(
    dimension: Int, seed: UInt64 = 0, maxIterations: Int = 200, relativeTolerance: Double = 1e-6,
    apply: ([Double]) -> [Double]
) -> EigenvalueEstimate {
    precondition(dimension > 0, "largestEigenvalue: dimension must be positive")
    var generator = SeededGenerator(seed: seed)
    var q = (0..<dimension).map { _ in Double(generator.nextGaussian()) }
    let start = Linalg.norm(q)
    for i in 0..<dimension { q[i] /= start }
    var estimate = 0.0
    for iteration in 1...Swift.max(1, maxIterations) {
        let aq = apply(q)
        let value = Linalg.dot(q, aq)
        let length = Linalg.norm(aq)
        guard length > 0, length.isFinite else {
            return EigenvalueEstimate(value: length == 0 ? 0 : value, iterations: iteration, converged: length == 0)
        }
        let change = abs(value - estimate)
        estimate = value
        if iteration > 1 && change <= relativeTolerance * abs(value) {
            return EigenvalueEstimate(value: value, iterations: iteration, converged: true)
        }
        for i in 0..<dimension { q[i] = aq[i] / length }
    }
    return EigenvalueEstimate(value: estimate, iterations: maxIterations, converged: false)
}

/// The largest eigenvalue of the training Hessian H (undamped) of `objective`, by power iteration on
/// Hessian-vector products.
public func largestEigenvalue(
    of objective: any LastLayerObjective, seed: UInt64 = 0, maxIterations: Int = 200, relativeTolerance: Double = 1e-6
) -> EigenvalueEstimate {
    largestEigenvalue(dimension: objective.parameterCount, seed: seed, maxIterations: maxIterations,
                      relativeTolerance: relativeTolerance) { objective.hessianVectorProduct($0) }
}
