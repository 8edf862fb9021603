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
            builds it (same data options and --seed) and --out receives influence.csv, most-harmful.png, \
            most-helpful.png, figure1-*.png and summary.json. The solver options (--solver, --damping, --lissa-scale ...) \
            and ISP's --epsilon and --isp-step apply; model options do not (the model comes from the checkpoint). \
            --check trains a small CNN on phantoms and compares Eq. 7 with leave-one-out retraining and the solvers \
            with each other. --bench times the influence steps at the paper's size (use a release build).
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
        guard figure1Count >= 0, sheetCount >= 1, benchCount >= 2 else {
            throw ValidationError("--figure1-count must be >= 0, --sheet-count >= 1, --bench-count >= 2")
        }
    }

    func run() throws {
        let progress = TerminalProgress()
        if check {
            var settings = InfluenceCheck.Settings()
            settings.threads = trainingOptions.threads ?? settings.threads
            let report = try InfluenceCheck.run(settings, observer: progress)
            print(json ? String(decoding: try JSONCoding.compactEncoder.encode(report), as: UTF8.self) : report.text)
        } else if bench {
            var settings = InfluenceBench.Settings()
            settings.imageCount = benchCount
            settings.imageSize = benchImageSize
            settings.threads = trainingOptions.threads ?? settings.threads
            let result = try InfluenceBench.run(settings, observer: progress)
            print(json ? String(decoding: try JSONCoding.compactEncoder.encode(result), as: UTF8.self) : result.text)
        } else if let checkpoint {
            let settings = try trainingOptions.singleRun(method: .isp, dataOptions: dataOptions)
            let data = try ExperimentData.load(settings.data, threads: settings.training.threads, verbose: !json)
            progress.message("data: \(settings.data.sourceName): \(data.summary)")
            let summary = try InfluenceRanking.run(
                InfluenceRanking.Settings(checkpoint: checkpoint, out: out, figure1Count: figure1Count, sheetCount: sheetCount),
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
