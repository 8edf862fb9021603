import ArgumentParser
import Experiments
import Foundation
import NN
import RobustTraining

struct DenoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Train Noise2Void on a dataset's noisy training images (or apply a saved denoiser) and compare it with classical filters.",
        discussion: """
            Noise is applied as `train` applies it. The output directory gets denoiser.safetensors, denoise.json \
            (PSNR and SSIM of noisy, denoised, Gaussian-filtered and median-filtered images against the clean ones) \
            and example-*.png (clean / noisy / denoised / gaussian / median).
            """)

    @OptionGroup var dataOptions: DataOptions
    // The denoiser's own options only: the classifier's (recipe, ISR/ISP, AT, ...) do nothing here, so --help shows none.
    @OptionGroup(title: "Noise2Void") var noise2VoidOptions: Noise2VoidOptions

    @Option(name: .long, help: "Seed of the noise, the denoiser's initialisation and its patch draws (default: \(TrainingConfiguration().seed)).")
    var seed: UInt64?

    @Option(name: .long, help: "Threads (default: \(TrainingConfiguration().threads)).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("A saved denoiser (denoiser.safetensors) to apply instead of training one.", valueName: "path"))
    var denoiser: String?

    @Option(name: .long, help: "Sigma (pixels) of the Gaussian-filter baseline.")
    var gaussianSigma: Double = 1

    @Option(name: .long, help: "Training images the metrics are averaged over (the first ones; 0 = all).")
    var evalCount: Int = 200

    @Option(name: .long, help: "Example images written as PNGs.")
    var examples: Int = 4

    @Option(name: .long, help: "Output directory.")
    var out: String = "out/denoise"

    @Flag(name: .long, help: "Print the metrics as one JSON object on standard output.")
    var json = false

    func validate() throws {
        guard gaussianSigma > 0 else { throw ValidationError("--gaussian-sigma must be positive (got \(gaussianSigma))") }
        guard evalCount >= 0, examples >= 0 else { throw ValidationError("--eval-count and --examples must not be negative") }
    }

    func run() throws {
        let settings = try runSettings()
        let progress = TerminalProgress()
        let data = try ExperimentData.load(settings.data, threads: settings.training.threads, verbose: !json)
        progress.message("data: \(settings.data.sourceName): \(data.summary)")
        let report = try DenoisingExperiment(settings: settings, denoiserPath: denoiser, gaussianSigma: gaussianSigma,
                                             evaluationCount: evalCount == 0 ? nil : evalCount, exampleCount: examples)
            .run(data: data, directory: out, observer: progress)
        if json {
            print(String(decoding: try JSONCoding.compactEncoder.encode(report), as: UTF8.self))
        } else {
            func row(_ name: String, _ psnr: Double, _ ssim: Double) -> String {
                name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "PSNR %6.2f dB   SSIM %.4f", psnr, ssim)
            }
            print("mean over \(report.imagesEvaluated) noisy training images (\(report.noise)):")
            print(row("  noisy", report.psnrNoisy, report.ssimNoisy))
            print(row("  Noise2Void", report.psnrDenoised, report.ssimDenoised))
            print(row(String(format: "  Gaussian (sigma %g)", report.gaussianSigma), report.psnrGaussian, report.ssimGaussian))
            print(row("  median 3x3", report.psnrMedian, report.ssimMedian))
            print(String(format: "training %.1f s, denoising %.1f s; files in %@", report.trainSeconds, report.denoiseSeconds, out))
        }
    }

    /// An n2v run's settings from the library's defaults with the data options, --seed, --threads and the N2V options
    /// (the classifier, at the standard variant for the image size, is not trained here).
    func runSettings() throws -> RunSettings {
        let data = try dataOptions.settings()
        var training = TrainingConfiguration(method: .n2v)
        training.model = ModelVariant.standard.configuration(imageSize: data.imageSize, channels: training.model.channels)
        noise2VoidOptions.apply(to: &training.noise2void)
        if let seed { training.seed = seed }
        if let threads { training.threads = threads }
        return RunSettings(data: data, training: try training.validatedForTool())
    }
}
