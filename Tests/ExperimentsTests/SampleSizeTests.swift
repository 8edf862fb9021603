import Testing
@testable import Experiments

/// Power of the paired t-test and the seeds it needs, against published values and limits.
@Suite struct SampleSizeTests {
    @Test func pairsNeededMatchCohensTables() {
        // Two-sided paired t-test, alpha 0.05, power 0.8 (G*Power "matched pairs"; Cohen 1988 table 2.4.1):
        // d = 0.5 -> 34 pairs, 0.8 -> 15, 1.0 -> 10.
        #expect(Statistics.pairsNeeded(effectSize: 0.5) == 34)
        #expect(Statistics.pairsNeeded(effectSize: 0.8) == 15)
        #expect(Statistics.pairsNeeded(effectSize: 1.0) == 10)
        #expect(Statistics.pairsNeeded(effectSize: -1.0) == 10)
        #expect(Statistics.pairsNeeded(effectSize: 0) == nil)
        #expect(Statistics.pairsNeeded(effectSize: 0.001) == nil)  // > 10,000
    }

    @Test func powerHasTheRightLimits() {
        // No effect: the test rejects at its level. Simpson on a smooth integrand: 1e-6 is far above its error.
        for n in [2, 5, 30] { #expect(abs(Statistics.pairedTTestPower(effectSize: 0, pairs: n) - 0.05) < 1e-6) }
        // Large n: the t-test becomes the z-test, power -> Phi(d sqrt(n) - 1.96) + Phi(-d sqrt(n) - 1.96).
        let n = 400, d = 0.15
        let z = 1.959963984540054, shift = d * Double(n).squareRoot()
        let normal = Statistics.normalUpperTail(z - shift) + Statistics.normalUpperTail(z + shift)
        #expect(abs(Statistics.pairedTTestPower(effectSize: d, pairs: n) - normal) < 3e-3)
        #expect(abs(Statistics.studentTCriticalValue(twoSidedAlpha: 0.05, degreesOfFreedom: 4) - 2.776445105) < 1e-6)
    }
}
