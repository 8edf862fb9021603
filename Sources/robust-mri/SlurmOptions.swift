import ArgumentParser
import Experiments
import Foundation

/// `compare`'s cluster flags: `--slurm` submits the grid as a Slurm job array instead of running it here,
/// `--status` shows where each run stands (local grids too).
struct SlurmOptions: ParsableArguments {
    @Flag(name: .long, help: "Submit the unfinished runs as one Slurm job array (one task per run) instead of running them here.")
    var slurm = false

    @Flag(name: .long, help: "Show which runs of the grid planned in OUT/plan.json are done, running, queued, started, failed or missing (from the run store and squeue; --out alone is enough); writes the report when all are done.")
    var status = false

    @Option(name: .long, help: "Slurm partition (with --slurm).") var partition: String?
    @Option(name: .long, help: "Time limit per run, e.g. 4:00:00 (with --slurm).") var time: String?
    @Option(name: .long, help: "CPUs per task (with --slurm; default: --threads of the grid).") var cpusPerTask: Int?
    @Option(name: .long, help: "Memory per task, e.g. 8G (with --slurm).") var mem: String?
    @Option(name: .long, help: "At most this many tasks at once (with --slurm).") var maxConcurrent: Int?
    @Option(name: .long, parsing: .unconditionalSingleValue, help: ArgumentHelp("One more sbatch argument, passed through (repeatable), e.g. --sbatch-arg=--account=abc.", valueName: "arg"))
    var sbatchArg: [String] = []
    @Option(name: .long, help: ArgumentHelp("sbatch command (name or path).", visibility: .hidden)) var sbatchCommand = "sbatch"
    @Option(name: .long, help: ArgumentHelp("squeue command (name or path).", visibility: .hidden)) var squeueCommand = "squeue"

    var isActive: Bool { slurm || status }

    func validate() throws {
        if slurm && status { throw ValidationError("--slurm and --status do different things: give one of them") }
        let given = [partition, time, mem].contains { $0 != nil } || cpusPerTask != nil || maxConcurrent != nil || !sbatchArg.isEmpty
        if given && !slurm { throw ValidationError("--partition, --time, --cpus-per-task, --mem, --max-concurrent and --sbatch-arg go with --slurm") }
        do { try resources.validate() } catch { throw ValidationError("\(error)") }
    }

    var resources: SlurmResources {
        SlurmResources(partition: partition, time: time, cpusPerTask: cpusPerTask, memory: mem, maxConcurrent: maxConcurrent,
                       extraArguments: sbatchArg)
    }

    var client: SlurmClient { SlurmClient(sbatch: sbatchCommand, squeue: squeueCommand) }

    /// Runs `--slurm` for the grid resolved by `compare`, or `--status` for the grid planned in the output directory
    /// (`optionsGiven`: whether grid options beyond --preset and --out were given, to say where they differ from it).
    func run(configuration: CompareConfiguration, outDirectory: String, optionsGiven: Bool) throws {
        let directory = Self.absolutePath(outDirectory)
        if slurm {
            try submit(SlurmGrid(runner: GridRunner(configuration: configuration, outDirectory: directory), client: client))
            return
        }
        let planned = try PlannedGrid(outDirectory: directory, given: configuration, optionsGiven: optionsGiven, purpose: "status")
        // The counts stay the first line (scripts read it); the plan they count follows.
        try showStatus(SlurmGrid(runner: GridRunner(configuration: planned.configuration, outDirectory: directory), client: client),
                       plan: planned.summary)
    }

    func submit(_ grid: SlurmGrid) throws {
        let runner = grid.runner
        var resources = resources
        resources.jobName = "robust-mri-\(runner.configuration.preset.rawValue)"
        let plan = runner.configuration.plan()
        switch try grid.submit(resources: resources, executable: try Self.currentExecutable()) {
        case .complete:
            print("All \(plan.count) runs of \(runner.outDirectory) are done: nothing to submit (`robust-mri compare --status --out \(runner.outDirectory)` writes the report).")
        case .allActive(let count):
            print("Nothing submitted: all \(count) unfinished runs are already queued or running (see `--status`).")
        case .submitted(let submission, let alreadyActive):
            print("Submitted job \(submission.jobID): \(submission.runIDs.count) of \(plan.count) runs as array tasks 0-\(submission.runIDs.count - 1)"
                  + (alreadyActive > 0 ? " (\(alreadyActive) more already queued or running)" : "") + ".")
            print("  sbatch \(submission.sbatchArguments.joined(separator: " ")) \(grid.scriptPath) \(submission.mapFile)")
            let threads = try SlurmTask.loadPlan(runner.planPath).base.training.threads
            let cpus = submission.sbatchArguments.last { $0.hasPrefix("--cpus-per-task=") }?.dropFirst("--cpus-per-task=".count) ?? "?"
            print("  each task: \(cpus) CPU(s); each run: \(threads) thread(s) (--threads, kept in \(runner.planPath))")
            print("  logs: \(grid.logDirectory)/\(submission.jobID)_<task>.out; status: robust-mri compare --status --out \(runner.outDirectory) (same grid flags)")
        }
    }

    func showStatus(_ grid: SlurmGrid, plan: String) throws {
        let status = try GridStatus.read(grid)
        print(status.rendered(), terminator: "")
        print(plan)
        if status.isComplete {
            let written = try ComparisonReport(runner: grid.runner).write()
            print(written.markdown)
            print("Wrote \(grid.runner.outDirectory)/table.md, table.csv, table.json, report.html and \(written.figures.count) figures.")
        }
    }

    /// The running `robust-mri` binary, so that tasks run exactly this build.
    static func currentExecutable() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let argument = CommandLine.arguments.first ?? ""
        if argument.contains("/") { return absolutePath(argument) }
        if let found = SlurmClient.locate(argument) { return absolutePath(found) }
        throw ValidationError("cannot tell where the robust-mri binary is: run it by its path")
    }

    static func absolutePath(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
