import Tensor

/// Fits the last layer of a `SoftmaxLinearObjective` by Newton's method on the L2-regularized objective
///   F(theta) = R(theta) + (lambda / 2) ||theta||^2,   grad F = grad R + lambda theta,   Hess F = H + lambda I,
/// so that the solvers' damped Hessian H + lambda I is the true Hessian of F at its minimum and the
/// influence approximation is exact to first order (Koh and Liang 2017, Sec. 2).
/// Steps solve (H + lambda I) delta = grad F by Cholesky, with backtracking on F.
public struct NewtonFit: Sendable {
    /// The problem at the fitted theta.
    public var objective: SoftmaxLinearObjective
    public var iterations: Int
    /// ||grad F|| at the fitted theta.
    public var gradientNorm: Double

    /// Fits from `objective.parameters` (the start) until ||grad F|| <= `gradientTolerance`.
    public static func fit(
        _ objective: SoftmaxLinearObjective, damping lambda: Double, gradientTolerance: Double = 1e-10,
        maxIterations: Int = 100
    ) throws -> NewtonFit {
        precondition(lambda > 0, "NewtonFit: damping \(lambda) must be positive (the objective must be strongly convex)")
        var current = objective
        var gradient = regularizedGradient(current, lambda)
        var norm = Linalg.norm(gradient)
        var value = regularizedLoss(current, lambda)
        var iteration = 0
        while norm > gradientTolerance && iteration < maxIterations {
            iteration += 1
            var h = current.hessian()
            let order = current.parameterCount
            for i in 0..<order { h[i * order + i] += lambda }
            let step = try CholeskyFactor(factoring: h, order: order).solve(gradient)
            let decrease = Linalg.dot(gradient, step)
            var t = 1.0
            while true {
                var theta = current.parameters
                Linalg.axpy(-t, step, &theta)
                let candidate = current.withParameters(theta)
                let candidateValue = regularizedLoss(candidate, lambda)
                let candidateGradient = regularizedGradient(candidate, lambda)
                let candidateNorm = Linalg.norm(candidateGradient)
                // Armijo on F; near the optimum F stops resolving, so a smaller gradient also counts.
                if candidateValue <= value - 1e-4 * t * decrease || (candidateValue <= value + 1e-12 * abs(value) && candidateNorm < norm) || t < 1e-8 {
                    current = candidate
                    value = candidateValue
                    gradient = candidateGradient
                    norm = candidateNorm
                    break
                }
                t /= 2
            }
            guard norm.isFinite else { throw InfluenceError.nonFinite(solver: "newton", step: iteration) }
        }
        return NewtonFit(objective: current, iterations: iteration, gradientNorm: norm)
    }

    /// F(theta) = R(theta) + (lambda / 2) ||theta||^2.
    public static func regularizedLoss(_ objective: SoftmaxLinearObjective, _ lambda: Double) -> Double {
        objective.meanTrainingLoss() + 0.5 * lambda * Linalg.dot(objective.parameters, objective.parameters)
    }

    /// grad F = grad R + lambda theta.
    public static func regularizedGradient(_ objective: SoftmaxLinearObjective, _ lambda: Double) -> [Double] {
        var g = objective.meanTrainingGradient()
        Linalg.axpy(lambda, objective.parameters, &g)
        return g
    }
}
