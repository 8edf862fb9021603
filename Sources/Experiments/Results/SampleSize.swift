#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many seeds a paired comparison needs: the power of the two-sided paired t-test and the smallest
/// number of pairs that reaches a target power (Cohen 1988, chapter 2; G*Power's "matched pairs" test).
///
/// With n pairs whose differences have mean mu and standard deviation sigma, the statistic follows a
/// noncentral t with df = n - 1 and noncentrality delta = sqrt(n) mu / sigma, and
///     power = P(T' > c) + P(T' < -c),   c = the two-sided alpha critical value of Student's t(df).
/// T' = (Z + delta) / S with S = sqrt(chi^2_df / df), so each tail is an integral over the density of S
/// of a normal tail, computed here by Simpson's rule on [0, 12] (the density of S is smooth and, for every
/// df >= 1, below 1e-30 beyond 12).
extension Statistics {
    /// Power of the two-sided paired t-test with `pairs` pairs at standardised effect d = mu / sigma.
    public static func pairedTTestPower(effectSize d: Double, pairs n: Int, alpha: Double = 0.05) -> Double {
        precondition(n >= 2 && alpha > 0 && alpha < 1, "pairedTTestPower: pairs \(n), alpha \(alpha)")
        let df = Double(n - 1)
        let c = studentTCriticalValue(twoSidedAlpha: alpha, degreesOfFreedom: df)
        let delta = d * Double(n).squareRoot()
        let logNormaliser = log(2) + (df / 2) * log(df / 2) - lgamma(df / 2)
        func density(_ s: Double) -> Double {  // of S = sqrt(chi^2_df / df)
            s <= 0 ? (df == 1 ? exp(logNormaliser) : 0) : exp(logNormaliser + (df - 1) * log(s) - df * s * s / 2)
        }
        let intervals = 4_000, upper = 12.0, h = upper / Double(intervals)
        var total = 0.0
        for k in 0...intervals {
            let s = Double(k) * h
            let weight: Double = (k == 0 || k == intervals) ? 1 : (k % 2 == 1 ? 4 : 2)
            let tails = normalUpperTail(c * s - delta) + normalUpperTail(c * s + delta)
            total += weight * density(s) * tails
        }
        return Swift.min(1, Swift.max(0, total * h / 3))
    }

    /// The smallest number of pairs (>= 2) at which the paired t-test reaches `power` for effect d, or nil when
    /// d is 0 or not finite, or more than `limit` pairs would be needed.
    public static func pairsNeeded(effectSize d: Double, power: Double = 0.8, alpha: Double = 0.05, limit: Int = 10_000) -> Int? {
        guard d.isFinite, d != 0 else { return nil }
        // Power grows with n: bisection over [2, limit].
        guard pairedTTestPower(effectSize: d, pairs: limit, alpha: alpha) >= power else { return nil }
        var low = 2, high = limit
        if pairedTTestPower(effectSize: d, pairs: low, alpha: alpha) >= power { return low }
        while high - low > 1 {
            let mid = (low + high) / 2
            if pairedTTestPower(effectSize: d, pairs: mid, alpha: alpha) >= power { high = mid } else { low = mid }
        }
        return high
    }

    /// c with P(|T| >= c) = alpha for Student's t with `degreesOfFreedom`, by bisection on the p-value.
    public static func studentTCriticalValue(twoSidedAlpha alpha: Double, degreesOfFreedom df: Double) -> Double {
        var low = 0.0, high = 1e4
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if studentTTwoSidedP(t: mid, degreesOfFreedom: df) > alpha { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// P(Z > x) for a standard normal Z.
    public static func normalUpperTail(_ x: Double) -> Double { 0.5 * erfc(x / 2.0.squareRoot()) }
}
