import Tensor

/// s ~ (H + lambda I)^-1 v by conjugate gradients on Hessian-vector products (H is never formed).
/// Stops when ||r|| <= tolerance * ||v||; a solve still above that at `maxIterations` (by the true
/// residual too, measured with one more Hessian-vector product) throws `InfluenceError.cgNotConverged`, as LiSSA
/// refuses a diverging recursion and the exact solve a matrix that is not positive definite: a
/// singular H + lambda I (too little damping) must not turn into silent influence scores.
public struct ConjugateGradientSolver: InverseHVPSolver {
    public let damping: Double
    public let objective: any LastLayerObjective
    public let tolerance: Double
    public let maxIterations: Int

    public init(objective: any LastLayerObjective, damping: Double = LiSSAConfiguration.authorsDamping, tolerance: Double = 1e-10,
                maxIterations: Int = 1000) {
        precondition(damping >= 0 && tolerance > 0 && maxIterations > 0,
                     "ConjugateGradientSolver: damping \(damping), tolerance \(tolerance), maxIterations \(maxIterations)")
        self.damping = damping
        self.objective = objective
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }

    public func solve(_ v: [Double]) throws -> InverseHVPSolution {
        precondition(v.count == objective.parameterCount,
                     "ConjugateGradientSolver.solve: v has \(v.count) entries, P = \(objective.parameterCount)")
        try requireFinite(v, solver: "cg", step: 0)
        let ((s, iterations, converged), seconds) = try timed { () throws -> ([Double], Int, Bool) in
            var x = [Double](repeating: 0, count: v.count)
            var r = v
            var p = r
            var rr = Linalg.dot(r, r)
            let target = tolerance * tolerance * rr
            var iteration = 0
            while iteration < maxIterations && rr > target {
                iteration += 1
                var ap = objective.hessianVectorProduct(p)
                Linalg.axpy(damping, p, &ap)
                let alpha = rr / Linalg.dot(p, ap)
                Linalg.axpy(alpha, p, &x)
                Linalg.axpy(-alpha, ap, &r)
                let next = Linalg.dot(r, r)
                guard next.isFinite, alpha.isFinite else { throw InfluenceError.nonFinite(solver: "cg", step: iteration) }
                let beta = next / rr
                for i in 0..<p.count { p[i] = r[i] + beta * p[i] }
                rr = next
            }
            return (x, iteration, rr <= target)
        }
        let residual = relativeResidual(of: objective, damping: damping, solution: s, rightHandSide: v)
        if !converged && !(residual <= tolerance) {
            throw InfluenceError.cgNotConverged(iterations: iterations, relativeResidual: residual, tolerance: tolerance)
        }
        let report = InverseHVPReport(
            solver: "cg", iterations: iterations, relativeResidual: residual,
            setupSeconds: 0, solveSeconds: seconds, effectiveDamping: damping)
        return InverseHVPSolution(solution: s, report: report)
    }
}
