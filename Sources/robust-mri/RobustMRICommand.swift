import ArgumentParser

@main
struct RobustMRICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robust-mri",
        abstract: "Train brain-tumour MRI classifiers that stay accurate on noisy training images (ISR, ISP and baselines).",
        subcommands: [TrainCommand.self, BenchCommand.self, DenoiseCommand.self]
    )
}
