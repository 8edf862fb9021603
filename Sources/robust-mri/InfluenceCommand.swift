import ArgumentParser
import Experiments
import Foundation
import RobustTraining

/// `robust-mri influence`: the engine's built-in check, the influence ranking of a trained model with
/// the paper's Figure 1, or the timing of the influence steps (argument parsing and printing only).
struct InfluenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "influence",
        abstract: "Rank a trained model's training images by influence (Eq. 7), draw ISP perturbations (Figure 1), or check/time the engine.",
        discussion: """
            With --checkpoint (a model.safetensors saved by train) the noisy training set is rebuilt exactly as train \
            built it: where the run's config.json is beside the checkpoint, every data and training setting and --seed \
            default to the run's (as for evaluate), each option given overriding its setting; without it, train's \
            defaults at the checkpoint's image size. --out receives influence.csv, most-harmful.png, most-helpful.png, \
            figure1-*.png and summary.json. The solver options (--solver, --damping, --lissa-scale ...) and ISP's \
            --epsilon and --isp-step apply; --model and --channels are refused (the network is the checkpoint's). \
            An n2v run's model is scored on images denoised by the denoiser.safetensors beside it (as it was trained; \
            --denoiser names another, --no-denoiser uses the images as given). \
            If LiSSA stops because its scale is not above the Hessian's largest eigenvalue (small models often have \
            one above the authors' 50), pass --lissa-scale auto. \
            --check trains a small CNN on phantoms and compares Eq. 7 with leave-one-out retraining and the solvers \
            with each other; it takes --image-size, --phantom-count, --epochs, --lr, --seed and --threads, and refuses \
            the other data and training options. --bench times the influence steps at the paper's size (use a release \
            build); it takes --threads and refuses the other data and training options.
            """)

    @Flag(name: .long, help: "Run the built-in validation (leave-one-out and solver comparison).")
    var check = false

    @Flag(name: .long, help: "Time features, Eq. 7 with each solver, Eq. 8 for every image, and one training epoch.")
    var bench = false

    @Option(name: .long, help: "--bench: number of phantom training images.")
    var benchCount: Int = 2300

    @Option(name: .long, help: "--bench: image side in pixels (authors' CNN variant).")
    var benchImageSize: Int = 256

    @Option(name: .long, help: ArgumentHelp("A model saved by train (model.safetensors).", valueName: "path"))
    var checkpoint: String?

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var trainingOptions: TrainingOptions
    @OptionGroup var denoiserOptions: DenoiserOptions

    @Option(name: .long, help: "Figure 1: the most harmful images (with a tumour mask) to draw.")
    var figure1Count: Int = 4

    @Option(name: .long, help: "Images per contact sheet.")
    var sheetCount: Int = 16

    @Option(name: .long, help: "Output directory.")
    var out: String = "out/influence"

    @Flag(name: .long, help: "Print the result as one JSON object on standard output.")
    var json = false

    func validate() throws {
        guard [check, bench, checkpoint != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("choose one of --check, --bench or --checkpoint <model.safetensors>")
        }
        if checkpoint == nil, denoiserOptions.denoiser != nil || denoiserOptions.noDenoiser {
            throw ValidationError("--denoiser and --no-denoiser choose the denoiser of a --checkpoint's n2v run; --check and --bench use none")
        }
        guard figure1Count >= 0, sheetCount >= 1, benchCount >= 2 else {
            throw ValidationError("--figure1-count must be >= 0, --sheet-count >= 1, --bench-count >= 2")
        }
    }

    func run() throws {
        let progress = TerminalProgress()
        if check {
            var settings = InfluenceCheck.Settings()
            try refuseUnusedOptions(mode: "--check", honoured: "--image-size, --phantom-count, --epochs, --lr, --seed and --threads") { data, training in
                data.imageSize = nil
                data.phantomCount = nil
                training.epochs = nil
                training.lr = nil
                training.seedLists = []
                training.threads = nil
            }
            settings.imageSize = dataOptions.imageSize ?? settings.imageSize
            settings.imageCount = dataOptions.phantomCount ?? settings.imageCount
            settings.epochs = trainingOptions.epochs ?? settings.epochs
            settings.learningRate = trainingOptions.lr ?? settings.learningRate
            settings.seed = try trainingOptions.singleSeed() ?? settings.seed
            settings.threads = trainingOptions.threads ?? settings.threads
            let report = try InfluenceCheck.run(settings, observer: progress)
            print(json ? String(decoding: try JSONCoding.compactEncoder.encode(report), as: UTF8.self) : report.text)
        } else if bench {
            var settings = InfluenceBench.Settings()
            try refuseUnusedOptions(mode: "--bench", honoured: "--threads (and --bench-count, --bench-image-size)") { _, training in
                training.threads = nil
            }
            settings.imageCount = benchCount
            settings.imageSize = benchImageSize
            settings.threads = trainingOptions.threads ?? settings.threads
            let result = try InfluenceBench.run(settings, observer: progress)
            print(json ? String(decoding: try JSONCoding.compactEncoder.encode(result), as: UTF8.self) : result.text)
        } else if let checkpoint {
            let threads = trainingOptions.threads ?? TrainingConfiguration().threads
            let (loaded, file) = try SavedModel.load(from: checkpoint, threads: threads)
            let model = loaded.configuration
            let denoiser = try denoiserOptions.resolve(checkpoint: checkpoint, metadata: file.metadata, threads: threads, quiet: json)
            let saved = try SavedRunSettings(checkpoint: checkpoint, model: model, dataOptions: dataOptions,
                                             seed: try trainingOptions.singleSeed())
            let settings = RunSettings(data: saved.data, training: try saved.training(options: trainingOptions, model: model))
            if !json { progress.message(saved.origin) }
            if let warning = saved.intensityWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            let data = try ExperimentData.load(settings.data, threads: settings.training.threads, verbose: !json)
            progress.message("data: \(settings.data.sourceName): \(data.summary)")
            let summary = try InfluenceRanking.run(
                InfluenceRanking.Settings(checkpoint: checkpoint, out: out, figure1Count: figure1Count, sheetCount: sheetCount,
                                          denoiser: denoiser),
                run: settings, data: data, observer: progress)
            if json {
                var brief = summary
                brief.perImage = []
                print(String(decoding: try JSONCoding.compactEncoder.encode(brief), as: UTF8.self))
            } else {
                print(InfluenceRanking.text(summary, out: out))
            }
        }
    }
}

extension InfluenceCommand {
    /// Refuses data and training options that `mode` (--check, --bench) does not use, naming the settings they
    /// would set; `honoured` lists the options it takes, and `clearHonoured` clears them before the comparison.
    func refuseUnusedOptions(mode: String, honoured: String,
                             clearHonoured: (inout DataOptions, inout TrainingOptions) -> Void) throws {
        var data = dataOptions, training = trainingOptions
        clearHonoured(&data, &training)
        let unused = try Self.settings(data, training)
        let differences = SettingDifference.between(try Self.settings(DataOptions.parse([]), TrainingOptions.parse([])), unused)
        guard !differences.isEmpty else { return }
        let named = differences.map { "\($0.path) = \($0.given)" }.joined(separator: ", ")
        throw ValidationError("""
            influence \(mode) does not use the data and training options that set \(named); it takes \(honoured). \
            Leave the others out (to rank a trained model's images with them, use --checkpoint <model.safetensors>)
            """)
    }

    /// The run settings `data` and `training` would give a single run from train's defaults.
    private static func settings(_ data: DataOptions, _ training: TrainingOptions) throws -> RunSettings {
        let dataSettings = try data.settings()
        var configuration = TrainingConfiguration()
        training.apply(to: &configuration, imageSize: dataSettings.imageSize, imageSizeChanged: false, baseVariant: nil)
        return RunSettings(data: dataSettings, training: configuration)
    }
}
