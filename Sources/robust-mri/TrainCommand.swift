import ArgumentParser
import Experiments
import Foundation
import RobustTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the CNN with one method on noisy images, evaluate it, and save it.",
        discussion: """
            Without --data the images are synthetic phantoms (the embedded default). The output directory gets \
            config.json, metrics.jsonl (one line per epoch), checkpoint.safetensors (for --resume), \
            model.safetensors (loadable in PyTorch) and result.json.
            """)

    @Option(name: .long, help: "Training method: naive, isr, isp, at (FGSM adversarial training) or n2v (Noise2Void, then training).")
    var method: TrainingMethodKind = .naive

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var trainingOptions: TrainingOptions

    @Option(name: .long, help: "Output directory.")
    var out: String = "out/train"

    @Flag(name: .long, help: "Continue the interrupted run in --out from its last epoch's checkpoint (checkpoint.safetensors). Without a checkpoint there it says so and starts from epoch 1, so the same command starts a run and restarts it; a finished run whose checkpoint was deleted is refused.")
    var resume = false

    @Flag(name: .long, help: "Print the final metrics as one JSON object on standard output.")
    var json = false

    func run() throws {
        let settings = try trainingOptions.singleRun(method: method, dataOptions: dataOptions)
        let progress = TerminalProgress()
        let data = try ExperimentData.load(settings.data, threads: settings.training.threads, verbose: !json)
        progress.message("data: \(settings.data.sourceName): \(data.summary)")
        let outcome = try SingleRun(settings: settings, directory: out)
            .execute(data: data, id: "train", resumption: resume ? .requested : .refuse, observer: progress)
        let summary = RunSummary(outcome.record, directory: out)
        if json {
            print(try summary.json())
        } else {
            print(summary.text)
        }
    }
}
