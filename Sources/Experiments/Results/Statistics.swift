#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Summary statistics for results over seeds, and the paired tests used to say which differences
/// between methods are within seed-to-seed noise. (Correlations live in `Influence.Correlation`.)
public enum Statistics {
    /// Arithmetic mean; 0 for an empty sample.
    public static func mean(_ xs: [Double]) -> Double {
        xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
    }

    /// Sample standard deviation (n - 1 in the denominator, as the paper's +- std over trials); 0 when n < 2.
    public static func standardDeviation(_ xs: [Double]) -> Double {
        guard xs.count >= 2 else { return 0 }
        let m = mean(xs)
        let ss = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (ss / Double(xs.count - 1)).squareRoot()
    }

    /// Paired two-sided t-test of the differences a_i - b_i. Returns nil when n < 2; a p-value of 1
    /// when every difference is zero, and 0 when they are all equal but not zero.
    public static func pairedTTest(_ a: [Double], _ b: [Double]) -> (t: Double, degreesOfFreedom: Int, p: Double)? {
        precondition(a.count == b.count, "pairedTTest: samples of sizes \(a.count) and \(b.count) are not paired")
        guard a.count >= 2 else { return nil }
        let d = zip(a, b).map { $0 - $1 }
        let m = mean(d)
        let s = standardDeviation(d)
        let df = d.count - 1
        if s == 0 { return (m == 0 ? 0 : (m > 0 ? .infinity : -.infinity), df, m == 0 ? 1 : 0) }
        let t = m / (s / Double(d.count).squareRoot())
        return (t, df, studentTTwoSidedP(t: t, degreesOfFreedom: Double(df)))
    }

    /// Exact two-sided sign-flip permutation test of paired differences: the share of the 2^n sign
    /// patterns whose |mean difference| is at least the observed one. Distribution-free; with five
    /// seeds the smallest attainable p is 2/32 = 0.0625, which is itself worth reporting.
    public static func signFlipTest(_ a: [Double], _ b: [Double]) -> Double? {
        precondition(a.count == b.count, "signFlipTest: samples of sizes \(a.count) and \(b.count) are not paired")
        let d = zip(a, b).map { $0 - $1 }
        guard !d.isEmpty, d.count <= 20 else { return nil }
        let observed = abs(d.reduce(0, +))
        var atLeast = 0
        let patterns = 1 << d.count
        for mask in 0..<patterns {
            var total = 0.0
            for (i, value) in d.enumerated() { total += (mask >> i) & 1 == 1 ? -value : value }
            if abs(total) >= observed - 1e-12 { atLeast += 1 }
        }
        return Double(atLeast) / Double(patterns)
    }

    /// Two-sided p-value of Student's t: P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2).
    public static func studentTTwoSidedP(t: Double, degreesOfFreedom df: Double) -> Double {
        guard t.isFinite else { return 0 }
        return regularizedIncompleteBeta(x: df / (df + t * t), a: df / 2, b: 0.5)
    }

    /// Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz), using the
    /// symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
    public static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(x: 1 - x, a: b, b: a)
        }
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var f = d
        for m in 1...300 {
            let m2 = Double(2 * m)
            let mm = Double(m)
            var numerator = mm * (b - mm) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            f *= d * c
            numerator = -(a + mm) * (a + b + mm) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-14 { break }
        }
        return exp(logFront) * f / a
    }
}
