import ArgumentParser
import Experiments
import Foundation
import MRIData
import NN
import RobustTraining

extension EvaluationReport.Part: ExpressibleByArgument {}

/// `robust-mri evaluate`: a saved model on a dataset at several test-noise fractions (parsing and printing only).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved model on a dataset: accuracy, per-class recall and precision, macro-F1, confusion matrix.",
        discussion: """
            The data options are those of train. Where the run's config.json is beside the checkpoint, every data \
            setting (dataset or phantoms, split, noise, test-noise fractions, intensity mapping) and --seed default to \
            the run's, so with --split test the figures equal the run's test accuracies; each option given overrides \
            its setting (--intensity-clip with a warning). Without config.json: train's defaults. Images are loaded at \
            the checkpoint's size unless --image-size is given, which must then match it. At each \
            --test-noise-fraction rho a seeded share rho of the evaluated images gets --noise. For an n2v run the \
            images go through its denoiser (denoiser.safetensors beside the checkpoint) first, as in the run.
            """)

    @Option(name: .long, help: ArgumentHelp("Model file written by train (model.safetensors).", valueName: "path"))
    var checkpoint: String

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var denoiserOptions: DenoiserOptions

    @Option(name: .long, help: "Images to evaluate: all, train, validation or test.")
    var split: EvaluationReport.Part = .test

    @Option(name: .long, help: "Seed of the noise and of the choice of noisy images (default: the run's, from its config.json, else 1).")
    var seed: UInt64?

    @Option(name: .long, help: "Threads.")
    var threads: Int = 2

    @Option(name: .long, help: "BatchNorm statistics: running (as stored in the model file: what its run evaluated with), precise (recomputed over the noisy training images of --seed) or clean-validation (precise, plus a test-time-adapted figure whose clean share uses statistics of the clean validation images).")
    var bnStatistics: BatchNormStatisticsKind = .running

    @Option(name: .long, help: "Most training images the precise statistics are recomputed over (0 = all; train's default 512).")
    var preciseImages: Int = TrainingRecipe.stable.preciseStatisticsImages

    @Flag(name: .long, help: "Print one JSON object instead of tables.")
    var json = false

    func validate() throws {
        guard threads > 0 else { throw ValidationError("--threads must be positive (got \(threads))") }
    }

    func run() throws {
        let (model, file) = try SavedModel.load(from: checkpoint, threads: threads)
        // The data as in the model's run (config.json beside the checkpoint), each given option overriding its setting.
        let saved = try SavedRunSettings(checkpoint: checkpoint, model: model.configuration, dataOptions: dataOptions, seed: self.seed)
        let settings = saved.data, seed = saved.seed
        if !json { FileHandle.standardError.write(Data((saved.origin + "\n").utf8)) }
        if let warning = saved.intensityWarning { FileHandle.standardError.write(Data((warning + "\n\n").utf8)) }
        if let warning = saved.dataKindWarning { FileHandle.standardError.write(Data((warning + "\n\n").utf8)) }
        let data = try ExperimentData.load(settings, threads: threads, verbose: !json)
        if !json { FileHandle.standardError.write(Data("data: \(settings.sourceName): \(data.summary)\n".utf8)) }
        let denoiser = try denoiserOptions.resolve(checkpoint: checkpoint, metadata: file.metadata, threads: threads, quiet: false)
        let report = try EvaluationReport.evaluate(
            model: model, checkpoint: checkpoint, data: data, sourceName: settings.sourceName, part: split,
            noise: settings.noise, fractions: settings.testNoiseFractions, seed: seed, threads: threads,
            denoiser: denoiser?.denoiser, denoiserPath: denoiser?.path, statistics: bnStatistics, preciseImages: preciseImages,
            intensity: settings.imageReading.intensity)
        print(json ? try report.json() : report.text)
    }
}
