import Foundation
import Tensor

/// Computes s ~ (H + lambda I)^-1 v for the training Hessian H of a `LastLayerObjective`.
///
/// Damping semantics, shared by every solver: `damping` is lambda, the multiple of I added to the
/// mean-loss Hessian H. All solvers default to lambda = `LiSSAConfiguration.authorsDamping` (2.5), the
/// effective damping of the authors' LiSSA run (scale 50 x damp 0.05), so s, and hence the influence
/// scores and ISP's epsilon, mean the same whichever solver computed them. `ExactSolver` and `ConjugateGradientSolver` solve this
/// system to rounding/tolerance; `LiSSASolver` is a stochastic estimate of the same solution.
public protocol InverseHVPSolver: Sendable {
    /// lambda: the solvers' common damping.
    var damping: Double { get }
    /// s ~ (H + lambda I)^-1 v. v, s: [P]. Throws rather than return non-finite values.
    func solve(_ v: [Double]) throws -> InverseHVPSolution
}

/// The solution and how it was obtained.
public struct InverseHVPSolution: Sendable {
    /// s: [P].
    public var solution: [Double]
    public var report: InverseHVPReport
}

/// How a solve went; saved beside every influence result.
public struct InverseHVPReport: Codable, Sendable, Equatable {
    /// "exact", "cg" or "lissa".
    public var solver: String
    /// CG iterations, LiSSA recursion steps (times repetitions), 1 for the exact solve.
    public var iterations: Int
    /// ||(H + lambda I) s - v|| / ||v||, measured with one exact Hessian-vector product.
    public var relativeResidual: Double
    /// Work done once per solver (Hessian assembly and factorization; LiSSA's eigenvalue estimate).
    public var setupSeconds: Double
    /// Time of this solve.
    public var solveSeconds: Double
    /// The lambda actually solved with (for LiSSA: scale * damp).
    public var effectiveDamping: Double
    /// LiSSA only: the scale used (after any automatic raise) and the estimated top eigenvalue of H.
    public var lissaScale: Double?
    public var largestEigenvalue: Double?
    /// LiSSA only: set when the recursion stopped long before it could converge (`LiSSASolver.truncationWarning`),
    /// a sentence with the fix; nil when it ran long enough.
    public var truncationWarning: String? = nil
}

/// User-facing failures of the influence solvers.
public enum InfluenceError: Error, CustomStringConvertible, Equatable {
    /// LiSSA's scale must exceed the Hessian's largest eigenvalue, or the recursion diverges.
    case lissaScaleTooSmall(scale: Double, largestEigenvalue: Double, neededScale: Double)
    /// The LiSSA iterate grew past the bound ||v|| / damp of its fixed point: the scale is too small
    /// for the mini-batch Hessians it met.
    case lissaDiverged(step: Int, scale: Double, neededScale: Double)
    /// A solver produced NaN or infinity.
    case nonFinite(solver: String, step: Int)
    /// Conjugate gradients reached its iteration cap with the relative residual above its tolerance
    /// (H + lambda I singular or ill-conditioned).
    case cgNotConverged(iterations: Int, relativeResidual: Double, tolerance: Double)

    public var description: String {
        switch self {
        case let .lissaScaleTooSmall(scale, top, needed):
            return "LiSSA: scale \(Self.figure(scale)) is not above the Hessian's largest eigenvalue \(Self.figure(top)) (power iteration), so the recursion diverges: set the LiSSA scale to at least \(Self.roundedUp(needed)), or to auto"
        case let .lissaDiverged(step, scale, needed):
            return "LiSSA: the recursion diverged at step \(step) with scale \(Self.figure(scale)) (mini-batch Hessians exceed it): set the LiSSA scale to at least \(Self.roundedUp(needed)), or to auto"
        case let .cgNotConverged(iterations, residual, tolerance):
            return "CG did not converge: relative residual " + String(format: "%.1e", residual) + " after \(iterations) iterations "
                + "(tolerance " + String(format: "%g", tolerance) + "), so H + damping x I is singular or ill-conditioned: raise the damping"
        case let .nonFinite(solver, step):
            return "\(solver): non-finite values (NaN or infinity) at step \(step); check the features and parameters for NaN, or raise the damping"
        }
    }
}

extension InfluenceError {
    /// A figure for a message: four significant digits (an eigenvalue printed to 14 decimals hides its size).
    static func figure(_ x: Double) -> String { String(format: "%.4g", x) }

    /// `x` rounded up to three significant digits, so that passing the printed value satisfies the bound.
    static func roundedUp(_ x: Double) -> String {
        guard x.isFinite, x > 0 else { return figure(x) }
        let unit = pow(10, floor(log10(x)) - 2)
        return String(format: "%g", (x / unit).rounded(.up) * unit)
    }
}

/// ||(H + lambda I) s - v|| / ||v||.
func relativeResidual(of objective: any LastLayerObjective, damping: Double, solution s: [Double], rightHandSide v: [Double]) -> Double {
    var r = objective.hessianVectorProduct(s)
    Linalg.axpy(damping, s, &r)
    Linalg.axpy(-1, v, &r)
    let scale = Linalg.norm(v)
    return Linalg.norm(r) / (scale > 0 ? scale : 1)
}

/// Seconds elapsed while running `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (value: T, seconds: Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    let elapsed = clock.now - start
    return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
}

/// Throws `InfluenceError.nonFinite` when `values` holds NaN or infinity.
func requireFinite(_ values: [Double], solver: String, step: Int) throws {
    guard values.allSatisfy({ $0.isFinite }) else { throw InfluenceError.nonFinite(solver: solver, step: step) }
}
