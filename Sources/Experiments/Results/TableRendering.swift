import Foundation

/// The paper's Table 1 (test accuracy %, mean +- std over 5 trials), for showing beside our numbers when
/// the data is the figshare set. The paper reports two test-noise settings without stating their rho in
/// the text we have, so both are shown, labelled "setting 1" and "setting 2".
public enum PaperTable1 {
    public struct Cell: Sendable { public let mean: Double; public let std: Double }

    /// [method: [noise: (setting 1, setting 2)]]
    public static let values: [String: [String: (Cell, Cell)]] = [
        "naive": ["gaussian": (Cell(mean: 87.77, std: 0.84), Cell(mean: 88.89, std: 0.88)),
                  "rician": (Cell(mean: 86.50, std: 3.38), Cell(mean: 88.44, std: 2.43))],
        "at": ["gaussian": (Cell(mean: 88.38, std: 1.47), Cell(mean: 88.95, std: 0.94)),
               "rician": (Cell(mean: 86.85, std: 1.62), Cell(mean: 89.04, std: 0.54))],
        "n2v": ["gaussian": (Cell(mean: 88.12, std: 1.69), Cell(mean: 89.08, std: 1.70)),
                "rician": (Cell(mean: 83.92, std: 2.52), Cell(mean: 86.78, std: 1.79))],
        "isr": ["gaussian": (Cell(mean: 88.79, std: 1.75), Cell(mean: 89.17, std: 1.09)),
                "rician": (Cell(mean: 88.12, std: 2.28), Cell(mean: 89.49, std: 1.82))],
        "isp": ["gaussian": (Cell(mean: 89.52, std: 2.61), Cell(mean: 90.73, std: 1.58)),
                "rician": (Cell(mean: 89.49, std: 1.45), Cell(mean: 90.54, std: 1.19))],
    ]

    /// The paper's two figures for a method and noise, as text, or nil when the paper has none.
    /// Noise names other than "gaussian" that start with "rician" map to the paper's Rician column.
    public static func text(method: String, noise: String) -> String? {
        let methodKey = method.hasPrefix("isr") ? "isr" : method.hasPrefix("isp") ? "isp" : method
        let noiseKey = noise.hasPrefix("rician") ? "rician" : noise
        guard let pair = values[methodKey]?[noiseKey] else { return nil }
        return String(format: "%.2f ± %.2f / %.2f ± %.2f", pair.0.mean, pair.0.std, pair.1.mean, pair.1.std)
    }
}

/// Table 1 as Markdown, CSV and JSON.
public enum TableRendering {
    static let classNames = ["meningioma", "glioma", "pituitary"]

    static func percent(_ s: SeedStatistic) -> String {
        // One run has no spread to show: its value alone, not "± 0.00".
        s.values.isEmpty ? "–" : s.values.count == 1 ? String(format: "%.2f", 100 * s.mean)
            : String(format: "%.2f ± %.2f", 100 * s.mean, 100 * s.std)
    }

    /// Markdown: the headline table, then the significance notes.
    public static func markdown(rows: [ResultRow], comparisons: [PairedComparison], showPaper: Bool) -> String {
        var lines: [String] = []
        let showAdapted = rows.contains { $0.adaptedLastEpochAccuracy != nil }
        let showRobust = rows.contains { $0.robustAccuracy != nil }
        var header = "| method | noise | test noise ρ | runs | **last epoch** (headline) | \(rangeHeading(rows)) | "
        if showAdapted { header += "clean share with clean-validation BN (test-time adapted) | " }
        if showRobust { header += "PGD robust accuracy (validation) | " }
        header += "validation-selected epoch | best test epoch (optimistic, as the authors reported) | macro-F1 | recall " + classNames.joined(separator: " / ") + " | train time / run |"
        if showPaper { header += " paper (setting 1 / setting 2) |" }
        lines.append(header)
        lines.append("|" + String(repeating: "---|", count: 11 + (showPaper ? 1 : 0) + (showAdapted ? 1 : 0) + (showRobust ? 1 : 0)))
        for r in rows {
            var line = "| \(r.method) | \(r.noise) | \(format(r.rho)) | \(r.runs) | **\(percent(r.lastEpochAccuracy))** | "
            line += (r.lastEpochsRangeSpan < 2 ? "–" : r.lastEpochsRange.map(points) ?? "–") + " | "
            if showAdapted { line += (r.adaptedLastEpochAccuracy.map(percent) ?? "–") + " | " }
            if showRobust { line += (r.robustAccuracy.map(percent) ?? "–") + " | " }
            line += "\(percent(r.validationSelectedAccuracy)) | \(percent(r.bestTestEpochAccuracy)) | "
            line += String(format: "%.3f | ", r.macroF1.mean)
            line += r.recallPerClass.map { String(format: "%.1f", 100 * $0) }.joined(separator: " / ")
            line += " | " + durationText(r.trainSeconds.mean) + " |"
            if showPaper { line += " \(PaperTable1.text(method: r.method, noise: r.noise) ?? "–") |" }
            lines.append(line)
        }
        lines.append("")
        lines.append("Accuracies in %, mean ± sample standard deviation over seeds (a single run: its value alone). The headline is the last epoch's test accuracy; the \(rangeHeading(rows)) (max - min, in points, mean over seeds) says how much it depends on where training stopped.")
        if showPaper {
            lines.append("The paper column is the paper's Table 1 for the same method and noise (256 px, its recipe, 5 trials): its two test-noise settings, setting 1 / setting 2, whose ρ the paper does not state (the authors' code uses ρ = 0); the paper reports the best test epoch, so compare it with that column more than with the headline.")
        }
        if showAdapted {
            lines.append("The test-time-adapted column classifies the clean test images with BatchNorm statistics recomputed over the clean validation images (no labels used); it uses clean images the other figures do not, so it stands beside the headline, not in its place.")
        }
        if !comparisons.isEmpty {
            lines.append("")
            lines.append("Paired by seed against `\(comparisons[0].reference)` (last-epoch accuracy; two-sided paired t-test and exact sign-flip test):")
            lines.append("")
            lines.append("| method | noise | ρ | pairs | mean difference (points) | std of differences | t-test p | sign-flip p | verdict | seeds needed (power 0.8) |")
            lines.append("|---|---|---|---|---|---|---|---|---|---|")
            for c in comparisons {
                let verdict = c.verdict
                let needed = c.seedsNeeded.map { "\($0)" }
                    ?? (c.pairs < 2 ? "–" : c.differencesHaveNoSpread ? "undefined (no spread)" : "> 10,000 or no difference")
                lines.append("| \(c.method) | \(c.noise) | \(format(c.rho)) | \(c.pairs) | " + String(format: "%+.2f", 100 * c.meanDifference)
                    + " | \(c.differenceStd.map { String(format: "%.2f", 100 * $0) } ?? "–")"
                    + " | \(c.tTestP.map { String(format: "%.3f", $0) } ?? "–") | \(c.signFlipP.map { String(format: "%.3f", $0) } ?? "–") | \(verdict) | \(needed) |")
            }
            lines.append("")
            lines.append("With n seeds the sign-flip test cannot go below 2/2^n (0.0625 for five seeds): a difference is called real here only when the t-test gives p < 0.05, or, where every seed gives the same difference (no spread, so the t-test's p is 0 whatever the evidence), when the sign-flip test does. Seeds needed: the pairs a two-sided paired t-test needs to detect the observed mean difference at the observed spread of the differences with power 0.8 at alpha 0.05 (noncentral t; the spread is itself estimated from few seeds).")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV with one row per (method, noise, rho); accuracies as fractions.
    public static func csv(rows: [ResultRow]) -> String {
        var lines = ["method,noise,rho,runs,last_epoch_mean,last_epoch_std,val_selected_mean,val_selected_std,best_test_epoch_mean,best_test_epoch_std,macro_f1_mean,recall_meningioma,recall_glioma,recall_pituitary,train_seconds_mean,last_epochs_range_mean,last_epochs_range_span,adapted_mean,adapted_std,pgd_robust_mean"]
        for r in rows {
            var fields: [String] = [
                r.method, r.noise, format(r.rho), "\(r.runs)",
                num(r.lastEpochAccuracy.mean), spread(r.lastEpochAccuracy),
                num(r.validationSelectedAccuracy.mean), spread(r.validationSelectedAccuracy),
                num(r.bestTestEpochAccuracy.mean), spread(r.bestTestEpochAccuracy),
                num(r.macroF1.mean)] + r.recallPerClass.map(num) + [String(format: "%.1f", r.trainSeconds.mean)]
            let range: String = r.lastEpochsRange.map { num($0.mean) } ?? ""
            let adaptedMean: String = r.adaptedLastEpochAccuracy.map { num($0.mean) } ?? ""
            let adaptedStd: String = r.adaptedLastEpochAccuracy.map(spread) ?? ""
            let robust: String = r.robustAccuracy.map { num($0.mean) } ?? ""
            fields += [range, "\(r.lastEpochsRangeSpan)", adaptedMean, adaptedStd, robust]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON: `{"rows": [...], "comparisons": [...]}`.
    public static func json(rows: [ResultRow], comparisons: [PairedComparison]) throws -> String {
        struct Document: Encodable { let rows: [ResultRow]; let comparisons: [PairedComparison] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(Document(rows: rows, comparisons: comparisons)), as: UTF8.self) + "\n"
    }

    /// The range column's heading: the epochs it spans ("last 5 epochs"; "last 3 epochs" in 3-epoch runs; where rows
    /// span different numbers, the most and the fewest).
    public static func rangeHeading(_ rows: [ResultRow]) -> String {
        let spans = Set(rows.map(\.lastEpochsRangeSpan))
        guard let most = spans.max(), let fewest = spans.min() else { return "range over last \(ResultTable.rangeEpochs) epochs" }
        if most < 2 { return "range over last epochs (one epoch: none)" }
        return most == fewest ? "range over last \(most) epochs" : "range over last \(most) epochs (\(fewest) in the shortest runs)"
    }

    /// A range in points (the statistic's mean over seeds).
    static func points(_ s: SeedStatistic) -> String { s.values.isEmpty ? "–" : String(format: "%.1f", 100 * s.mean) }

    static func num(_ x: Double) -> String { String(format: "%.4f", x) }
    /// The sample standard deviation, empty for fewer than two runs (undefined).
    static func spread(_ s: SeedStatistic) -> String { s.values.count < 2 ? "" : num(s.std) }
    static func format(_ rho: Double) -> String { String(format: "%g", rho) }

    public static func durationText(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        if seconds < 90 { return String(format: "%.0f s", seconds) }
        if seconds < 5400 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }
}
