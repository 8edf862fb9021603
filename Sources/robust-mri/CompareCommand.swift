import ArgumentParser
import Experiments
import Foundation
import NN
import RobustTraining

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run the paper's comparison grid (methods x noises x seeds) and write Table 1, figures and an HTML report.",
        discussion: """
            Presets: quick (synthetic phantoms, 64 px, 12 epochs, 3 seeds: minutes on 2 cores) and paper (the authors' \
            settings: 256 px, their CNN, 20 epochs, T = 15, five seeds). Any setting below overrides the preset. \
            Each finished run is stored at once in OUT/runs/; running the same command again skips finished runs and \
            resumes an interrupted one from its last epoch. The same command with more seeds, methods or noises \
            (and every other setting unchanged) extends the grid and reuses the finished runs. OUT also gets \
            table.md, table.csv, table.json, figures/ and report.html.
            """)

    @Option(name: .long, help: "quick or paper.")
    var preset: String = "quick"

    @Option(name: .long, help: "Output directory (default: out/compare-<preset>).")
    var out: String?

    @Option(name: .long, help: "Dataset folder (default: synthetic phantoms).")
    var data: String?

    @Option(name: .long, help: "Image side in pixels.")
    var imageSize: Int?

    @Option(name: .long, help: "Model: authors (5x5 valid), same3x3, or auto.")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Convolution channels.", valueName: "c1,c2,..."))
    var channels: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Methods (naive isr isp at n2v).")
    var methods: [TrainingMethodKind] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Noise types (gaussian rician rician-magnitude none).")
    var noises: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Seeds (one trial each).")
    var seeds: [UInt64] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Test-noise fractions rho to evaluate every model at.")
    var testNoiseFraction: [Double] = []

    @Option(name: .long, help: "Epochs.") var epochs: Int?
    @Option(name: .long, help: "ISR/ISP switch epoch T.") var switchEpoch: Int?
    @Option(name: .long, help: "Batch size.") var batchSize: Int?
    @Option(name: .long, help: "Adam learning rate.") var lr: Float?
    @Option(name: .long, help: "Inverse-HVP solver: exact, cg or lissa.") var solver: InfluenceSolverKind?
    @Option(name: .long, help: "Test fold.") var testFold: Int?
    @Option(name: .long, help: "Phantom slices (without --data).") var phantomCount: Int?
    @Option(name: .long, help: "Threads.") var threads: Int?
    @Option(name: .long, help: "ISP: none (paper text) or authors-uint8 (the authors' code: perturbed images truncated to 8 bits).") var ispRounding: ISPRounding?
    @Option(name: .long, help: "N2V: denoiser training epochs (paper preset: 10).") var n2vEpochs: Int?
    @Option(name: .long, help: "N2V: patches per denoiser epoch (paper preset: 2048).") var n2vPatches: Int?
    @Option(name: .long, help: "N2V: patch side in pixels (paper preset: 64).") var n2vPatchSize: Int?

    @OptionGroup(title: "Training recipe (default: the preset's; paper: the authors')") var recipeOptions: RecipeOptions

    @Flag(name: .long, help: "AT: stop at catastrophic overfitting and keep the last good epoch's weights.")
    var atEarlyStop = false

    @Flag(name: .long, help: "Only rebuild the tables, figures and report from the stored runs.")
    var reportOnly = false

    @OptionGroup(title: "Slurm cluster") var cluster: SlurmOptions

    func validate() throws {
        guard CompareConfiguration.preset(named: preset) != nil else { throw ValidationError("unknown --preset '\(preset)': use quick or paper") }
        if let model, !["auto", "authors", "same3x3"].contains(model) {
            throw ValidationError("--model must be auto, authors or same3x3 (got '\(model)')")
        }
        _ = try resolved()
    }

    /// The preset with every given override applied.
    func resolved() throws -> CompareConfiguration {
        guard var c = CompareConfiguration.preset(named: preset) else { throw ValidationError("unknown preset \(preset)") }
        if let data { c.base.data.path = data }
        if let imageSize {
            c.base.data.imageSize = imageSize
            c.base.data.phantom.imageSize = imageSize
        }
        if let phantomCount {
            c.base.data.phantom.count = phantomCount
            c.base.data.phantom.patients = max(1, phantomCount / 5)
        }
        if let testFold { c.base.data.testFold = testFold }
        if !testNoiseFraction.isEmpty { c.base.data.testNoiseFractions = testNoiseFraction }
        var m = c.base.training.model
        m.imageSize = c.base.data.imageSize
        if let channels {
            let values = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ $0 > 0 }) else { throw ValidationError("--channels needs positive integers like 32,32,64,64,64") }
            m.channels = values
        }
        let choice = model ?? (imageSize == nil ? nil : "auto")
        if let choice {
            let authors = CNNConfiguration(imageSize: m.imageSize, channels: m.channels, kernelSize: 5, padding: .valid)
            let same = CNNConfiguration(imageSize: m.imageSize, channels: m.channels, kernelSize: 3, padding: .same)
            m = choice == "authors" ? authors : choice == "same3x3" ? same : ((try? authors.validate()) != nil ? authors : same)
        }
        c.base.training.model = m
        if let epochs { c.base.training.epochs = epochs }
        if let switchEpoch {
            c.base.training.isr.switchEpoch = switchEpoch
            c.base.training.isp.switchEpoch = switchEpoch
        }
        if let batchSize { c.base.training.batchSize = batchSize }
        if let lr { c.base.training.learningRate = lr }
        if let solver {
            c.base.training.isr.influence.solver = solver
            c.base.training.isp.influence.solver = solver
        }
        if let threads { c.base.training.threads = threads }
        if let ispRounding { c.base.training.isp.rounding = ispRounding == .none ? nil : ispRounding }
        c.base.training.recipe = recipeOptions.applied(to: c.base.training.recipe)
        if recipeOptions.evaluateRecipeVariants { c.base.training.evaluateRecipeVariants = true }
        if atEarlyStop { c.base.training.adversarial.earlyStop = true }
        if let n2vEpochs { c.base.training.noise2void.epochs = n2vEpochs }
        if let n2vPatches { c.base.training.noise2void.patchesPerEpoch = n2vPatches }
        if let n2vPatchSize { c.base.training.noise2void.patchSize = n2vPatchSize }
        if !methods.isEmpty { c.methods = methods }
        if !noises.isEmpty {
            c.noises = try noises.map { NamedNoise(name: $0, model: try DataOptions.noiseModel(named: $0, level: nil, sameField: false)) }
        }
        if !seeds.isEmpty { c.seeds = seeds }
        for planned in c.plan().prefix(c.methods.count) {
            do { try planned.settings.training.validate() } catch { throw ValidationError(error.description) }
        }
        return c
    }

    func run() throws {
        let started = Date()
        let configuration = try resolved()
        let directory = out ?? "out/compare-\(preset)"
        if cluster.isActive { return try cluster.run(configuration: configuration, outDirectory: directory) }
        let runner = GridRunner(configuration: configuration, outDirectory: directory)
        if !reportOnly {
            try runner.preparePlan()
            let plan = configuration.plan()
            let pending = runner.pending()
            let grid = GridProgress(total: plan.count, alreadyDone: plan.count - pending.count)
            grid.message("compare \(configuration.preset): \(plan.count) runs (\(configuration.methods.count) methods x \(configuration.noises.count) noises x \(configuration.seeds.count) seeds), \(plan.count - pending.count) already done; output in \(directory)")
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
            let written = try ComparisonReport(runner: runner).write()
            print(written.markdown)
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
