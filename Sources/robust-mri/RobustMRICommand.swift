import ArgumentParser
import NN

@main
struct RobustMRICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robust-mri",
        abstract: "Train brain-tumour MRI classifiers that stay accurate on noisy training images (ISR, ISP and baselines).",
        subcommands: [CompareCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, InfluenceCommand.self,
                      DenoiseCommand.self, BenchCommand.self, SlurmTaskCommand.self]
    )

    static func main() {
        // Training allocates and frees tens of MiB per batch: keep freed memory mapped (see AllocatorTuning).
        AllocatorTuning.retainFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
