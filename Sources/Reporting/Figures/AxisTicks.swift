import Foundation

/// Axis tick positions and labels by the 1-2-5 rule: the step between ticks is 1, 2 or 5 times a power
/// of ten, the smallest such step giving at most `targetCount` intervals over the range, and ticks sit
/// on the multiples of the step inside [lower, upper].
///
/// Labels use the fewest decimals the step needs (step 0.25 does not occur; step 0.05 gives two decimals).
/// For very small or very large values the labels share a power of ten, which is written once in the axis
/// label as "(x10^k)" (`TickLabels.multiplierSuffix`).
public enum AxisTicks {
    /// The 1-2-5 step for a span divided into about `targetCount` intervals (at most that many).
    public static func niceStep(span: Double, targetCount: Int) -> Double {
        precondition(targetCount >= 1, "AxisTicks.niceStep: targetCount must be >= 1, got \(targetCount)")
        let span = span > 0 && span.isFinite ? span : 1
        let raw = span / Double(targetCount)
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for multiple in [1.0, 2, 5, 10] where multiple * magnitude >= raw * (1 - 1e-12) {
            return multiple * magnitude
        }
        return 10 * magnitude
    }

    /// Tick values: multiples of the 1-2-5 step within [lower, upper] (both included when they are multiples).
    /// When that step leaves fewer than two ticks inside the range (a short range straddling no multiple),
    /// the next finer 1-2-5 step is used until there are two. With `integerOnly` the step is at least 1.
    public static func ticks(lower: Double, upper: Double, targetCount: Int = 6, integerOnly: Bool = false) -> [Double] {
        let (low, high) = orderedNonEmpty(lower, upper)
        var step = niceStep(span: high - low, targetCount: targetCount)
        if integerOnly { step = max(step, 1) }
        var ticks = multiples(of: step, in: low, high)
        while ticks.count < 2 && !(integerOnly && step <= 1) {
            step = finerStep(step)
            ticks = multiples(of: step, in: low, high)
        }
        return ticks
    }

    /// The next smaller 1-2-5 step: 10 -> 5, 5 -> 2, 2 -> 1.
    static func finerStep(_ step: Double) -> Double {
        let magnitude = pow(10, log10(step).rounded(.down))
        let multiple = (step / magnitude).rounded()
        return multiple == 5 ? 2 * magnitude : multiple == 2 ? magnitude : 5 * magnitude / 10
    }

    private static func multiples(of step: Double, in low: Double, _ high: Double) -> [Double] {
        let first = (low / step - 1e-9).rounded(.up)
        let last = (high / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { index in
            let value = index * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    /// The range widened outwards to the nearest multiples of the 1-2-5 step (for axes that should start
    /// and end on a tick, like a histogram's count axis).
    public static func niceRange(lower: Double, upper: Double, targetCount: Int = 6) -> ClosedRange<Double> {
        let (low, high) = orderedNonEmpty(lower, upper)
        let step = niceStep(span: high - low, targetCount: targetCount)
        return (low / step + 1e-9).rounded(.down) * step ... (high / step - 1e-9).rounded(.up) * step
    }

    /// Labels for evenly spaced ticks.
    public static func labels(for ticks: [Double]) -> TickLabels {
        guard !ticks.isEmpty else { return TickLabels(labels: [], multiplierSuffix: "") }
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : max(abs(ticks[0]), 1)
        let largest = ticks.map(abs).max() ?? 0
        let exponent: Int
        if step < 1e-3 || largest >= 1e5 {
            exponent = Int((log10(max(largest, step))).rounded(.down))
        } else {
            exponent = 0
        }
        let scale = pow(10, Double(exponent))
        let scaledStep = step / scale
        let decimals = max(0, Int((-log10(scaledStep) - 1e-9).rounded(.up)))
        let labels = ticks.map { tick -> String in
            let text = String(format: "%.\(decimals)f", tick / scale)
            return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text.replacingOccurrences(of: "-", with: "\u{2212}")
        }
        return TickLabels(labels: labels, multiplierSuffix: exponent == 0 ? "" : " (\u{00D7}10\(superscript(exponent)))")
    }

    /// Powers of ten covering [lower, upper] for a log axis (both positive).
    static func logTicks(lower: Double, upper: Double) -> [Double] {
        precondition(lower > 0 && upper > 0, "AxisTicks.logTicks: bounds must be positive, got \(lower), \(upper)")
        let first = Int((log10(lower) - 1e-9).rounded(.up))
        let last = Int((log10(upper) + 1e-9).rounded(.down))
        guard first <= last else { return [] }
        var values = (first...last).map { pow(10, Double($0)) }
        if values.count < 3 {
            // Fewer than three decades: add 2x and 5x ticks (the 1-2-5 rule again).
            var extended: [Double] = []
            for k in (first - 1)...last {
                let decade = pow(10, Double(k))
                for multiple: Double in [1, 2, 5] {
                    let value = multiple * decade
                    if value >= lower * (1 - 1e-9) && value <= upper * (1 + 1e-9) { extended.append(value) }
                }
            }
            values = extended
        }
        return values
    }

    static func superscript(_ value: Int) -> String {
        let digits: [Character: Character] = ["0": "\u{2070}", "1": "\u{00B9}", "2": "\u{00B2}", "3": "\u{00B3}",
                                              "4": "\u{2074}", "5": "\u{2075}", "6": "\u{2076}", "7": "\u{2077}",
                                              "8": "\u{2078}", "9": "\u{2079}", "-": "\u{207B}"]
        return String(String(value).map { digits[$0] ?? $0 })
    }

    private static func orderedNonEmpty(_ a: Double, _ b: Double) -> (Double, Double) {
        var (low, high) = (min(a, b), max(a, b))
        if !(high > low) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            low -= pad
            high += pad
        }
        return (low, high)
    }
}

/// Tick labels with the shared power of ten (empty when there is none) to append to the axis label.
public struct TickLabels: Sendable, Equatable {
    public var labels: [String]
    public var multiplierSuffix: String
}
