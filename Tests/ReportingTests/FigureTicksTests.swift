import Foundation
import Testing
@testable import Reporting

@Suite struct FigureTicksTests {
    /// Is `step` = m * 10^k with m in {1, 2, 5}?
    static func isOneTwoFive(_ step: Double) -> Bool {
        let k = log10(step).rounded(.down)
        let m = step / pow(10, k)
        return [1.0, 2, 5, 10].contains { abs(m - $0) < 1e-9 }
    }

    @Test func knownRanges() {
        let unit = AxisTicks.ticks(lower: 0, upper: 1, targetCount: 5)
        #expect(unit.count == 6 && unit.enumerated().allSatisfy { abs($1 - Double($0) * 0.2) < 1e-12 }, "\(unit)")
        #expect(AxisTicks.ticks(lower: 0, upper: 100, targetCount: 6) == [0, 20, 40, 60, 80, 100])
        #expect(AxisTicks.ticks(lower: -3.7, upper: 12.1, targetCount: 5) == [0, 5, 10])
        #expect(AxisTicks.ticks(lower: 1, upper: 20, targetCount: 6, integerOnly: true) == [5, 10, 15, 20])
        #expect(AxisTicks.ticks(lower: 1, upper: 3, targetCount: 8, integerOnly: true) == [1, 2, 3])
        #expect(AxisTicks.ticks(lower: 80, upper: 95, targetCount: 5) == [80, 85, 90, 95])
        let small = AxisTicks.ticks(lower: 0.00012, upper: 0.00088, targetCount: 4)
        #expect(small.count == 4)
        #expect(zip(small, [2e-4, 4e-4, 6e-4, 8e-4]).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    /// Over many ranges: steps follow 1-2-5; there are at least two ticks, all inside the range, evenly spaced;
    /// and the step is the coarsest 1-2-5 step with at most `target` intervals, unless that step would leave
    /// fewer than two ticks (then it is finer), while the next finer step would exceed `target` intervals.
    @Test func oneTwoFiveRuleHoldsOnManyRanges() {
        let lowers: [Double] = [-1234, -3.3, -0.02, 0, 0.5, 7, 1e-6, 42_000]
        let spans: [Double] = [1e-5, 0.003, 0.7, 1, 2.5, 9.99, 37, 150, 1e4, 3.3e6]
        for lower in lowers {
            for span in spans {
                for target in [3, 5, 8] {
                    let upper = lower + span, actualSpan = upper - lower
                    let ticks = AxisTicks.ticks(lower: lower, upper: upper, targetCount: target)
                    #expect(ticks.count >= 2, "\(ticks) for \(lower)...\(upper)")
                    guard ticks.count >= 2 else { continue }
                    let step = ticks[1] - ticks[0]
                    let rule = AxisTicks.niceStep(span: actualSpan, targetCount: target)
                    #expect(Self.isOneTwoFive(rule), "step \(rule) for span \(span)")
                    #expect(actualSpan / rule <= Double(target) + 1e-9)
                    #expect(actualSpan / AxisTicks.finerStep(rule) > Double(target) - 1e-9, "\(rule) not minimal")
                    if abs(step - rule) > rule * 1e-6 {
                        #expect(step < rule && Self.isOneTwoFive(step), "step \(step), rule \(rule)")
                        let coarseCount = (upper / rule).rounded(.down) - (lower / rule).rounded(.up) + 1
                        #expect(coarseCount < 2, "finer step \(step) used although \(rule) gives \(coarseCount) ticks")
                    }
                    #expect(ticks.allSatisfy { $0 >= lower - step * 1e-6 && $0 <= upper + step * 1e-6 })
                    for (a, b) in zip(ticks, ticks.dropFirst()) { #expect(abs((b - a) - step) <= step * 1e-4) }
                }
            }
        }
        #expect(AxisTicks.finerStep(5) == 2 && AxisTicks.finerStep(2) == 1 && abs(AxisTicks.finerStep(1) - 0.5) < 1e-15)
        // Step 0.5 would leave only the tick 0.5 in [0.1, 0.8]: the next finer step, 0.2, is used.
        let short = AxisTicks.ticks(lower: 0.1, upper: 0.8, targetCount: 3)
        #expect(short.count == 4 && abs(short[0] - 0.2) < 1e-12 && abs(short[3] - 0.8) < 1e-12, "\(short)")
    }

    @Test func degenerateRangeStillHasTicks() {
        #expect(AxisTicks.ticks(lower: 5, upper: 5).count >= 2)
        #expect(AxisTicks.ticks(lower: 0, upper: 0).contains(0))
        #expect(AxisTicks.niceRange(lower: 3, upper: 97) == 0...100)
    }

    @Test func labelsUseTheStepsDecimalsAndASharedPowerOfTen() {
        #expect(AxisTicks.labels(for: [0, 20, 40]).labels == ["0", "20", "40"])
        #expect(AxisTicks.labels(for: [-0.5, 0, 0.5]).labels == ["\u{2212}0.5", "0.0", "0.5"])
        #expect(AxisTicks.labels(for: [0.84, 0.86, 0.88]).labels == ["0.84", "0.86", "0.88"])
        #expect(AxisTicks.labels(for: [0.6, 0.7, 0.8]).labels == ["0.6", "0.7", "0.8"], "step 0.1 needs one decimal")
        #expect(AxisTicks.labels(for: [80, 85, 90]).labels == ["80", "85", "90"])
        let tiny = AxisTicks.labels(for: [2e-4, 4e-4, 6e-4])
        #expect(tiny.labels == ["2", "4", "6"])
        #expect(tiny.multiplierSuffix == " (\u{00D7}10\u{207B}\u{2074})")
        let large = AxisTicks.labels(for: [0, 200_000, 400_000])
        #expect(large.labels == ["0", "2", "4"] && large.multiplierSuffix.contains("10\u{2075}"))
    }

    @Test func logTicksAreDecadesOrOneTwoFive() {
        #expect(AxisTicks.logTicks(lower: 1, upper: 1000) == [1, 10, 100, 1000])
        #expect(AxisTicks.logTicks(lower: 1, upper: 50) == [1, 2, 5, 10, 20, 50])
    }
}
