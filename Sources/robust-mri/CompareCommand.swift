import ArgumentParser
import Experiments
import Foundation
import RobustTraining

extension ComparePreset: ExpressibleByArgument {}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the paper's comparison grid (methods x noises x seeds) and write Table 1, figures and an HTML report.",
        discussion: """
            Presets: quick (synthetic phantoms, 64 px, 8 epochs, 3 seeds: minutes on 2 cores) and paper (the authors' \
            settings: 256 px, their CNN, 20 epochs, T = 15, five seeds). Any setting below overrides the preset. \
            Each finished run is stored at once in OUT/runs/; running the same command again skips finished runs and \
            resumes an interrupted one from its last epoch's checkpoint, saying so (a run stopped before its first \
            epoch ended has none and starts from epoch 1). The same command with more seeds, methods or noises \
            (and every other setting unchanged; the influence settings too until an ISR or ISP run has its scores) \
            extends the grid and reuses the finished runs. OUT also gets \
            table.md, table.csv, table.json, figures/ and report.html.
            """)

    @Option(name: .long, help: "quick or paper.")
    var preset: ComparePreset = .quick

    @Option(name: .long, help: "Output directory (default: out/compare-<preset>).")
    var out: String?

    @Option(name: .customLong("methods"), parsing: .upToNextOption, help: ArgumentHelp(
        "Methods (naive isr isp at n2v), \(ListSyntax.note) (default: all).", valueName: "method"),
            transform: { try ListSyntax.items($0, option: "--methods") })
    var methodLists: [[TrainingMethodKind]] = []

    /// --methods' methods, joined from its words (`ListSyntax`).
    var methods: [TrainingMethodKind] { Array(methodLists.joined()) }

    @OptionGroup(title: "Data (each overrides the preset; the defaults shown are train's)") var dataOptions: DataOptions

    @OptionGroup(title: "Training (each overrides the preset; the defaults shown are train's)") var trainingOptions: TrainingOptions

    @Flag(name: .long, help: "Only rebuild the tables, figures and report from the stored runs of the grid planned in OUT/plan.json (--out alone is enough; --methods, --noises and --seeds may pick part of it).")
    var reportOnly = false

    @OptionGroup(title: "Slurm cluster") var cluster: SlurmOptions

    func validate() throws {
        try ListSyntax.requireDistinct(methods.map(\.rawValue), option: "--methods")
        _ = try resolved()
    }

    /// The preset with every given option applied, through the option groups train uses.
    func resolved() throws -> CompareConfiguration {
        var c = preset.configuration
        try dataOptions.apply(to: &c.base.data)
        trainingOptions.apply(to: &c.base.training, imageSize: c.base.data.imageSize,
                              imageSizeChanged: dataOptions.imageSize != nil, baseVariant: nil)
        if !methods.isEmpty { c.methods = methods }
        c.noises = dataOptions.namedNoises(c.noises)
        if !trainingOptions.seeds.isEmpty { c.seeds = trainingOptions.seeds }
        for planned in c.plan().prefix(c.methods.count) {
            _ = try planned.settings.training.validatedForTool()
        }
        return c
    }

    func run() throws {
        let started = Date()
        let configuration = try resolved()
        let directory = out ?? "out/compare-\(preset.rawValue)"
        if cluster.isActive {
            return try cluster.run(configuration: configuration, outDirectory: directory,
                                   optionsGiven: configuration != preset.configuration)
        }
        let runner = GridRunner(configuration: configuration, outDirectory: directory)
        if !reportOnly {
            try runner.preparePlan()
            let plan = configuration.plan()
            let pending = runner.pending()
            let grid = GridProgress(total: plan.count, alreadyDone: plan.count - pending.count)
            grid.message("compare \(configuration.preset.rawValue): \(plan.count) runs (\(configuration.methods.count) methods x \(configuration.noises.count) noises x \(configuration.seeds.count) seeds), \(plan.count - pending.count) already done; output in \(directory)")
            if let notice = runner.finishedRunsOutsideThePlan() { grid.message(notice) }
            var failure: Error?
            if !pending.isEmpty {
                let data = try ExperimentData.load(configuration.base.data, threads: configuration.base.training.threads)
                grid.message("data: \(configuration.base.data.sourceName): \(data.summary)")
                do {
                    try runner.runPending(data: data) { planned, index, count in grid.observer(for: planned.id) }
                } catch let error as GridRunner.GridError {
                    failure = error
                }
            }
            let written = try ComparisonReport(runner: runner).write(totalSeconds: Date().timeIntervalSince(started))
            print(written.markdown)
            print("Wrote \(directory)/table.md, table.csv, table.json, report.html and \(written.figures.count) figures in \(directory)/figures/.")
            if let failure { throw failure }
        } else {
            // The options pick part of the plan only in the dimensions they name; the others stay the plan's (not
            // the preset's defaults, which had reported "2 of 15 runs" and unplanned methods for `--noises gaussian`).
            var selection = configuration
            if let plan = try? PlannedGrid(outDirectory: directory, given: configuration, optionsGiven: false, purpose: "report") {
                if methods.isEmpty { selection.methods = plan.configuration.methods }
                if dataOptions.noises.isEmpty { selection.noises = plan.configuration.noises }
                if trainingOptions.seeds.isEmpty { selection.seeds = plan.configuration.seeds }
            }
            let planned = try PlannedGrid(outDirectory: directory, given: selection,
                                          optionsGiven: selection != preset.configuration, purpose: "report",
                                          selectionFromOptions: true)
            let written = try ComparisonReport(runner: GridRunner(configuration: planned.configuration, outDirectory: directory)).write()
            print(written.markdown)
            if planned.configuration.plan().count < (try? PlannedGrid(outDirectory: directory, given: selection, optionsGiven: false,
                                                                        purpose: "report"))?.configuration.plan().count ?? 0 {
                FileHandle.standardError.write(Data("""
                    note: \(directory)/table.md and report.html now show the \(planned.configuration.plan().count) runs selected; \
                    `robust-mri compare --report-only --out \(directory)` writes the whole grid's again.

                    """.utf8))
            }
        }
    }
}

/// Progress over the whole grid: which run, its epoch, and the time left for the grid (from the runs
/// finished so far in this invocation).
final class GridProgress {
    let total: Int
    private var done: Int
    private var finishedDurations: [Double] = []
    private var currentStart = Date()

    init(total: Int, alreadyDone: Int) {
        self.total = total
        self.done = alreadyDone
    }

    func message(_ text: String) { TerminalProgress().message(text) }

    func observer(for id: String) -> any TrainingObserver {
        currentStart = Date()
        let remaining = total - done
        let eta = finishedDurations.isEmpty ? "" : " grid left ~" + TerminalProgress.duration(Statistics.mean(finishedDurations) * Double(remaining))
        let label = "[\(done + 1)/\(total) \(id)\(eta)]"
        return RunCompletionObserver(progress: TerminalProgress(label: label)) { [weak self] in
            guard let self else { return }
            self.finishedDurations.append(Date().timeIntervalSince(self.currentStart))
            self.done += 1
        }
    }
}

/// Forwards to a progress display and notes when the run's last epoch is done.
final class RunCompletionObserver: TrainingObserver {
    let progress: TerminalProgress
    let onLastEpoch: () -> Void

    init(progress: TerminalProgress, onLastEpoch: @escaping () -> Void) {
        self.progress = progress
        self.onLastEpoch = onLastEpoch
    }

    func batchFinished(epoch: Int, epochs: Int, batch: Int, batches: Int, runningLoss: Double, runningAccuracy: Double, imagesPerSecond: Double) {
        progress.batchFinished(epoch: epoch, epochs: epochs, batch: batch, batches: batches, runningLoss: runningLoss,
                               runningAccuracy: runningAccuracy, imagesPerSecond: imagesPerSecond)
    }
    func epochFinished(_ metrics: EpochMetrics, epochs: Int) {
        progress.epochFinished(metrics, epochs: epochs)
        if metrics.epoch == epochs { onLastEpoch() }
    }
    func phase(_ description: String, done: Int, of total: Int) { progress.phase(description, done: done, of: total) }
    func message(_ text: String) { progress.message(text) }
}
