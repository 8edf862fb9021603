import ArgumentParser
import Experiments
import Foundation

/// The hidden command each Slurm array task runs (written into OUT/slurm/job.sh by `compare --slurm`).
struct SlurmTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-task",
        abstract: "Run one run of a grid submitted with `compare --slurm` (used by its Slurm job script).",
        shouldDisplay: false)

    @Option(name: .long, help: "The grid's output directory (holds plan.json).") var out: String
    @Option(name: .long, help: "The submission's map file: line i = the run id of array task i.") var map: String
    @Option(name: .long, help: "This task's array index ($SLURM_ARRAY_TASK_ID).") var index: Int

    func run() throws {
        let task = SlurmTask(outDirectory: out, mapFile: map, index: index)
        let (_, planned) = try task.resolve()
        try task.run(observer: TerminalProgress(label: "[\(planned.id)]"))
    }
}
