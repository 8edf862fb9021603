import Foundation
import Reporting
import RobustTraining
import Tensor

/// Turns a comparison's stored runs into `table.md`, `table.csv`, `table.json`, `figures/*.png` and one
/// self-contained `report.html`. Works on a partial grid too (it reports what is there).
public struct ComparisonReport {
    public let runner: GridRunner

    public init(runner: GridRunner) {
        self.runner = runner
    }

    public struct Written: Sendable {
        public var rows: [ResultRow]
        public var markdown: String
        public var figures: [String]
    }

    var configuration: CompareConfiguration { runner.configuration }
    var out: String { runner.outDirectory }

    /// Writes every output; returns the table rows and the figure files written.
    @discardableResult
    public func write(totalSeconds: Double? = nil) throws -> Written {
        let records = try runner.records()
        let rows = ResultTable.rows(records.map(\.summaryInput))
        let comparisons = ResultTable.comparisons(rows, reference: configuration.reference.rawValue)
        let showPaper = !configuration.base.data.isSynthetic
        var markdown = "# Comparison: \(configuration.title)\n\n"
        let changes = configuration.changesFromPreset
        if !changes.isEmpty {
            markdown += "Changed from the \(configuration.preset.rawValue) preset: "
                + changes.map { "`\($0.path)` \($0.stored) → \($0.given)" }.joined(separator: ", ") + ".\n\n"
        }
        markdown += "Data: \(configuration.base.data.sourceName)\(configuration.base.data.isSynthetic ? " — synthetic, not the paper's data" : ""). "
        markdown += "\(records.count) of \(configuration.plan().count) runs finished.\n\n"
        markdown += TableRendering.markdown(rows: rows, comparisons: comparisons, showPaper: showPaper)
        let resumed = records.compactMap { r in r.resumedAfterEpoch.map { "\(r.id) (after epoch \($0))" } }
        if !resumed.isEmpty {
            markdown += "\nResumed after an interruption (their times include the epochs of the interrupted process): "
                + resumed.joined(separator: ", ") + ".\n"
        }
        let warnings = Self.warnings(records)
        if !warnings.isEmpty {
            markdown += "\nWarnings raised while training (the first of each kind per run):\n\n" + warnings.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        try AtomicFile.write(markdown, to: "\(out)/table.md")
        try AtomicFile.write(TableRendering.csv(rows: rows), to: "\(out)/table.csv")
        try AtomicFile.write(try TableRendering.json(rows: rows, comparisons: comparisons), to: "\(out)/table.json")

        let methods = configuration.methods.map(\.rawValue).filter { m in records.contains { $0.method == m } }
        var figures: [(file: String, caption: String, figure: any RenderableFigure)] = []
        if !rows.isEmpty {
            figures.append(("accuracy.png", "Test accuracy at the last epoch per method, noise type and test-noise fraction ρ (mean ± std over seeds).",
                            ComparisonFigures.accuracyBars(rows: rows, methods: methods)))
        }
        for noise in configuration.noises.map(\.name) where records.contains(where: { $0.noiseName == noise }) {
            figures.append(("curves-validation-\(noise).png", "Validation accuracy per epoch (\(noise) noise; mean ± std over seeds).",
                            ComparisonFigures.curves(records: records, noise: noise, methods: methods,
                                                     title: "Validation accuracy, \(noise) noise", yLabel: "accuracy (%)",
                                                     bounds: 0...100) { 100 * $0.validation.accuracy }))
            figures.append(("curves-loss-\(noise).png", "Training loss per epoch (\(noise) noise).",
                            ComparisonFigures.curves(records: records, noise: noise, methods: methods,
                                                     title: "Training loss, \(noise) noise", yLabel: "cross-entropy",
                                                     bounds: 0...Double.greatestFiniteMagnitude) { $0.trainLoss }))
            var byMethod: [String: RunArtifacts] = [:]
            for method in methods {
                let first = records.filter { $0.method == method && $0.noiseName == noise }.min { $0.seed < $1.seed }
                if let first, let artifacts = try? RunArtifacts.read(from: "\(runner.runDirectory(first.id))/artifacts.safetensors") {
                    byMethod[method] = artifacts
                    if let scores = artifacts.influenceScores {
                        figures.append(("influence-\(method)-\(noise).png",
                                        "Distribution of the upweighting influence I_up,loss over the training images at epoch T (\(ComparisonFigures.displayName(method)), \(noise) noise, seed \(first.seed)); positive = harmful.",
                                        HistogramFigure(title: "Influence scores, \(ComparisonFigures.displayName(method)), \(noise)",
                                                        valueLabel: "I_up,loss (positive = harmful)",
                                                        groups: [HistogramFigure.Group(name: "training images", values: scores.map(Double.init))])))
                    }
                }
            }
            if let isp = byMethod["isp"], let figure = ComparisonFigures.figure1(isp, noise: noise) {
                figures.append(("figure1-\(noise).png", "The paper's Figure 1: noisy training image, tumour mask, and the perturbation ISP applied (blue lowers, red raises a pixel).", figure))
            }
            if let figure = ComparisonFigures.figure2(byMethod: byMethod, noise: noise) {
                let shown = ComparisonFigures.figure2Methods.filter { byMethod[$0] != nil }.map(ComparisonFigures.displayName)
                let list = shown.count <= 2 ? shown.joined(separator: " and ")
                    : shown.dropLast().joined(separator: ", ") + " and " + shown.last!
                figures.append(("figure2-\(noise).png", shown.isEmpty
                                    ? "The paper's Figure 2: clean and noisy training images (no AT, ISP or N2V run here to show beside them)."
                                    : "The paper's Figure 2: training images as \(list) leave them.", figure))
            }
            for row in rows where row.noise == noise && row.rho == configuration.base.data.testNoiseFractions.first {
                figures.append(("confusion-\(row.method)-\(noise).png",
                                "Confusion matrix, \(ComparisonFigures.displayName(row.method)), \(noise) noise, \(ComparisonFigures.rhoText(row.rho)), last epoch, summed over seeds.",
                                ConfusionMatrixFigure(title: "\(ComparisonFigures.displayName(row.method)), \(noise), \(ComparisonFigures.rhoText(row.rho))",
                                                      counts: row.confusion)))
            }
        }
        var reportFigures: [ReportFigure] = []
        for item in figures {
            let png = try item.figure.renderPNG()
            try AtomicFile.write([UInt8](png), to: "\(out)/figures/\(item.file)")
            reportFigures.append(ReportFigure(caption: item.caption, png: png))
        }
        try htmlReport(records: records, rows: rows, comparisons: comparisons, figures: reportFigures, totalSeconds: totalSeconds)
            .write(to: URL(fileURLWithPath: "\(out)/report.html"))
        return Written(rows: rows, markdown: markdown, figures: figures.map(\.file))
    }

    func htmlReport(records: [RunRecord], rows: [ResultRow], comparisons: [PairedComparison], figures: [ReportFigure],
                    totalSeconds: Double?) throws -> HTMLReport {
        let data = configuration.base.data
        // Each column with its cell of a row; the test-time-adapted and PGD columns only where some row has them (PGD
        // robust accuracy is measured for AT alone), the range only where runs have more than one epoch.
        var columns: [(column: ReportTable.Column, cell: (ResultRow) -> ReportTable.Cell)] = [
            (.init("method"), { .text(ComparisonFigures.displayName($0.method)) }), (.init("noise"), { .text($0.noise) }),
            (.init("ρ"), { .number($0.rho, decimals: 2) }), (.init("runs"), { .number(Double($0.runs), decimals: 0) }),
            (.init("last epoch", best: .highest), { Self.accuracyCell($0.lastEpochAccuracy) })]
        if rows.contains(where: { $0.lastEpochsRangeSpan >= 2 }) {
            columns.append((.init(TableRendering.rangeHeading(rows) + " (points)"),
                            { r in r.lastEpochsRangeSpan < 2 ? .empty : r.lastEpochsRange.map { .number(100 * $0.mean, decimals: 1) } ?? .empty }))
        }
        if rows.contains(where: { $0.adaptedLastEpochAccuracy != nil }) {
            columns.append((.init("clean share test-time adapted"), { $0.adaptedLastEpochAccuracy.map(Self.accuracyCell) ?? .empty }))
        }
        if rows.contains(where: { $0.robustAccuracy != nil }) {
            columns.append((.init("PGD-10 robust (validation)"), { $0.robustAccuracy.map(Self.accuracyCell) ?? .empty }))
        }
        columns += [(.init("validation-selected", best: .highest), { Self.accuracyCell($0.validationSelectedAccuracy) }),
                    (.init("best test epoch (optimistic)"), { Self.accuracyCell($0.bestTestEpochAccuracy) }),
                    (.init("macro-F1", best: .highest), { .number($0.macroF1.mean, decimals: 3) }),
                    (.init("train time / run (s)", best: .lowest), { .number($0.trainSeconds.mean, decimals: 1) })]
        let table = ReportTable(
            caption: "Test accuracy (%), mean ± std over seeds. The headline is the last epoch; the validation-selected epoch and the best test epoch (optimistic, as the authors reported) are beside it.",
            columns: columns.map(\.column), rows: rows.map { r in columns.map { $0.cell(r) } })
        let significance = ReportTable(
            caption: "Each method against \(ComparisonFigures.displayName(configuration.reference.rawValue)), paired by seed (last-epoch accuracy).",
            columns: [.init("method"), .init("noise"), .init("ρ"), .init("pairs"), .init("mean difference (points)"),
                      .init("paired t-test p"), .init("sign-flip p"), .init("verdict"), .init("seeds needed (power 0.8)")],
            rows: comparisons.map { c in
                [.text(ComparisonFigures.displayName(c.method)), .text(c.noise), .number(c.rho, decimals: 2), .number(Double(c.pairs), decimals: 0),
                 .number(100 * c.meanDifference, decimals: 2), c.tTestP.map { .number($0, decimals: 3) } ?? .empty,
                 c.signFlipP.map { .number($0, decimals: 3) } ?? .empty,
                 .text(c.verdict),
                 c.seedsNeeded.map { .number(Double($0), decimals: 0) } ?? .empty]
            },
            note: "A difference is called real only when the paired t-test gives p < 0.05 (the sign-flip test, where every seed gives the same difference and the t-test's p is 0 whatever the evidence); with n seeds the exact sign-flip test cannot go below 2/2^n.")
        var sections = [ReportSection(title: "Table 1", blocks: [.table(table), .table(significance)])]
        if !data.isSynthetic {
            sections[0].blocks.append(.paragraph("The paper's Table 1 (setting 1 / setting 2 of the test noise) is in table.md beside each row."))
        }
        let warnings = Self.warnings(records)
        if !warnings.isEmpty {
            sections.append(ReportSection(title: "Warnings", blocks: warnings.map { .paragraph($0) }))
        }
        sections.append(ReportSection(title: "Figures", blocks: figures.map { .figure($0) }))
        let machine = records.first?.machine.description ?? MachineInfo.current().description
        let trainTotal = records.reduce(0) { $0 + $1.trainSeconds }
        var timings = [Provenance.Timing("training, all runs", seconds: trainTotal)]
        if let totalSeconds { timings.append(Provenance.Timing("this command", seconds: totalSeconds)) }
        for method in configuration.methods.map(\.rawValue) {
            let times = records.filter { $0.method == method }.map(\.totalSeconds)
            if !times.isEmpty { timings.append(Provenance.Timing("one \(ComparisonFigures.displayName(method)) run (mean)", seconds: Statistics.mean(times))) }
        }
        return HTMLReport(
            title: "RobustMRI comparison: \(configuration.title)",
            summary: "Methods \(configuration.methods.map { ComparisonFigures.displayName($0.rawValue) }.joined(separator: ", ")) trained on noisy images "
                + "(\(configuration.noises.map(\.name).joined(separator: ", "))), \(configuration.seeds.count) seed(s), evaluated at test-noise fractions "
                + "\(data.testNoiseFractions.map { String(format: "%g", $0) }.joined(separator: ", ")). \(records.count) of \(configuration.plan().count) runs finished.",
            dataset: DatasetDescription(
                name: data.sourceName,
                description: data.isSynthetic
                    ? "Synthetic phantoms from RobustMRI's generator: procedural brain-like slices with three tumour classes. Not real MRI: these numbers say nothing about the paper's data."
                    : "Real MRI data.",
                isSynthetic: data.isSynthetic,
                facts: [ReportFact("Images", records.first?.dataSummary ?? "–"), ReportFact("Image size", "\(data.imageSize) px"),
                        ReportFact("Model", "\(configuration.base.training.model.kernelSize)x\(configuration.base.training.model.kernelSize) \(configuration.base.training.model.padding.rawValue), channels \(configuration.base.training.model.channels)"),
                        ReportFact("Epochs", "\(configuration.base.training.epochs) (ISR/ISP switch at T = \(configuration.base.training.isr.switchEpoch))"),
                        ReportFact("Recipe", configuration.base.training.recipe.summary)]),
            sections: sections,
            provenance: Provenance(configurationJSON: try Provenance.json(configuration), machine: machine,
                                   threads: configuration.base.training.threads, seeds: configuration.seeds, timings: timings,
                                   extra: [ReportFact("Tool version", ToolVersion.current)]))
    }

    /// Per run, the first warning of each kind its epochs raised (catastrophic overfitting, collapse to one class; the
    /// later epochs' repeats are counted) and its early stop, if any.
    static func warnings(_ records: [RunRecord]) -> [String] {
        records.flatMap { record -> [String] in
            var firstByKind: [(kind: String, text: String, count: Int)] = []
            for warning in record.epochs.flatMap({ $0.warnings ?? [] }) {
                let kind = String(warning.prefix { $0 != ":" && !$0.isNumber })
                if let i = firstByKind.firstIndex(where: { $0.kind == kind }) { firstByKind[i].count += 1 } else { firstByKind.append((kind, warning, 1)) }
            }
            var lines = firstByKind.map { "\(record.id): \($0.text)" + ($0.count > 1 ? " (\($0.count) epochs in all)" : "") }
            if let stop = record.earlyStop {
                lines.append("\(record.id): stopped early after epoch \(stop.detectedAtEpoch); the weights of epoch \(stop.keptEpoch) are its final ones")
            }
            return lines
        }
    }

    /// Mean ± std in %, or the value alone for a single run (no spread to show).
    static func accuracyCell(_ s: SeedStatistic) -> ReportTable.Cell {
        s.values.count < 2 ? .number(100 * s.mean, decimals: 2) : .meanStd(mean: 100 * s.mean, std: 100 * s.std, decimals: 2)
    }
}
