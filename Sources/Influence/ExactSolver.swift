import Tensor

/// s = (H + lambda I)^-1 v exactly: the dense Hessian is assembled in Double (C (C + 1) / 2 dsyrk
/// calls, see `SoftmaxLinearObjective.hessian()`), damped, and Cholesky-factored once (LAPACKE_dpotrf);
/// each solve is two triangular solves (LAPACKE_dpotrs). For C = 3, D = 1024: a 3075 x 3075 matrix.
public struct ExactSolver: InverseHVPSolver {
    public let damping: Double
    public let objective: any LastLayerObjective
    public let factor: CholeskyFactor
    public let assemblySeconds: Double
    public let factorizationSeconds: Double

    /// Assembles and factors H + lambda I. `threads`: the Hessian's sums over samples are split over this
    /// many threads; the factorisation runs at OpenBLAS's current thread count (the package keeps it at 1
    /// and never changes it here, so concurrent work elsewhere is not affected). Throws
    /// `Linalg.Failure.notPositiveDefinite` when H + lambda I is not positive definite (raise the damping).
    public init(objective: any LastLayerObjective, damping: Double = LiSSAConfiguration.authorsDamping, threads: Int = 2) throws {
        precondition(damping >= 0, "ExactSolver: damping \(damping) must be >= 0")
        let order = objective.parameterCount
        let assembly = timed { () -> [Double] in
            var h = objective.hessian(threads: threads)
            for i in 0..<order { h[i * order + i] += damping }
            return h
        }
        try requireFinite(assembly.value, solver: "exact (Hessian assembly)", step: 0)
        let factorization = try timed { try CholeskyFactor(factoring: assembly.value, order: order) }
        self.damping = damping
        self.objective = objective
        self.factor = factorization.value
        self.assemblySeconds = assembly.seconds
        self.factorizationSeconds = factorization.seconds
    }

    public func solve(_ v: [Double]) throws -> InverseHVPSolution {
        precondition(v.count == factor.order, "ExactSolver.solve: v has \(v.count) entries, P = \(factor.order)")
        try requireFinite(v, solver: "exact", step: 0)
        let (s, seconds) = timed { factor.solve(v) }
        try requireFinite(s, solver: "exact", step: 1)
        let report = InverseHVPReport(
            solver: "exact", iterations: 1,
            relativeResidual: relativeResidual(of: objective, damping: damping, solution: s, rightHandSide: v),
            setupSeconds: assemblySeconds + factorizationSeconds, solveSeconds: seconds, effectiveDamping: damping)
        return InverseHVPSolution(solution: s, report: report)
    }
}
