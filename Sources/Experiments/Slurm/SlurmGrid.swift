import Foundation
import Tensor

/// A comparison grid handed to Slurm as job arrays. Everything lives in the grid's output directory:
///
///     OUT/plan.json                  the grid (as for a local run)
///     OUT/runs/<id>.json             one record per finished run (the same store as a local run)
///     OUT/failed/<id>.json           a run that failed, with its error and log
///     OUT/slurm/job.sh               the batch script (runs `robust-mri compare-task`)
///     OUT/slurm/array-<n>.txt        submission n: line i = the run id of array task i
///     OUT/slurm/submissions.json     every submission: job id, map file, run ids, sbatch arguments
///     OUT/slurm/logs/<job>_<i>.out   each task's output
///
/// Submitting sends one array with a task per run that has no record and is not already queued or
/// running, so submitting again after failures sends exactly what is missing.
public struct SlurmGrid {
    public let runner: GridRunner
    public let client: SlurmClient

    public init(runner: GridRunner, client: SlurmClient = SlurmClient()) {
        self.runner = runner
        self.client = client
    }

    public var slurmDirectory: String { "\(runner.outDirectory)/slurm" }
    public var ledgerPath: String { "\(slurmDirectory)/submissions.json" }
    public var scriptPath: String { "\(slurmDirectory)/job.sh" }
    public var logDirectory: String { "\(slurmDirectory)/logs" }
    public func mapPath(submission number: Int) -> String { "\(slurmDirectory)/array-\(number).txt" }
    public func logPath(_ task: SlurmClient.ArrayTaskKey) -> String { "\(logDirectory)/\(task.jobID)_\(task.index).out" }

    /// One `sbatch` of this grid.
    public struct Submission: Codable, Sendable, Equatable {
        public var number: Int
        public var jobID: String
        public var mapFile: String
        /// Array task i runs `runIDs[i]`.
        public var runIDs: [String]
        public var sbatchArguments: [String]
        public var executable: String
        public var submittedAt: Date
    }

    public struct LedgerError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String {
            "\(path) is unreadable (\(reason)); restore it, or delete the slurm folder to forget earlier submissions (finished runs are kept)"
        }
    }

    public enum Outcome: Sendable {
        /// Every run of the plan has a record.
        case complete
        /// Nothing to send: every unfinished run is already queued or running.
        case allActive(Int)
        case submitted(Submission, alreadyActive: Int)
    }

    /// Every submission so far, oldest first.
    public func submissions() throws -> [Submission] {
        guard let bytes = try AtomicFile.read(ledgerPath) else { return [] }
        do {
            return try JSONCoding.decoder.decode([Submission].self, from: Data(bytes))
        } catch {
            throw LedgerError(path: ledgerPath, reason: "\(error)")
        }
    }

    /// The array task that last ran (or is to run) each run id.
    public func latestTasks() throws -> [String: SlurmClient.ArrayTaskKey] {
        var latest: [String: SlurmClient.ArrayTaskKey] = [:]
        for submission in try submissions() {
            for (index, id) in submission.runIDs.enumerated() {
                latest[id] = SlurmClient.ArrayTaskKey(jobID: submission.jobID, index: index)
            }
        }
        return latest
    }

    /// Slurm's state of the latest task of each submitted run that Slurm still lists.
    public func queueStates() throws -> [String: String] {
        let latest = try latestTasks()
        let jobIDs = Array(Set(latest.values.map(\.jobID))).sorted()
        let states = try client.arrayTaskStates(jobIDs: jobIDs)
        return latest.compactMapValues { states[$0] }
    }

    /// Writes the plan (or checks the one there), then submits one array of every run that has no record
    /// and is not queued or running. `executable` is the `robust-mri` binary the tasks run.
    public func submit(resources: SlurmResources, executable: String) throws -> Outcome {
        try resources.validate()
        try runner.preparePlan()
        let pending = runner.pending()
        guard !pending.isEmpty else { return .complete }
        let states = try queueStates()
        let todo = pending.filter { !SlurmTaskState.isActive(states[$0.id]) }
        guard !todo.isEmpty else { return .allActive(pending.count) }

        let previous = try submissions()
        let number = (previous.map(\.number).max() ?? 0) + 1
        let map = mapPath(submission: number)
        try AtomicFile.write(todo.map(\.id).joined(separator: "\n") + "\n", to: map)
        try AtomicFile.write(SlurmResources.jobScript(executable: executable, outDirectory: runner.outDirectory), to: scriptPath)
        try AtomicFile.createDirectories(logDirectory)
        // The tasks run plan.json, whose thread count may predate this command's (it is not part of the grid's identity).
        let threads = try SlurmTask.loadPlan(runner.planPath).base.training.threads
        let arguments = resources.sbatchArguments(taskCount: todo.count, threads: threads, logDirectory: logDirectory)
        let jobID = try client.submit(arguments: arguments, script: scriptPath, scriptArguments: [map])
        let submission = Submission(number: number, jobID: jobID, mapFile: map, runIDs: todo.map(\.id),
                                    sbatchArguments: arguments, executable: executable, submittedAt: Date())
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(previous + [submission])), to: ledgerPath)
        return .submitted(submission, alreadyActive: pending.count - todo.count)
    }
}

/// Slurm's job states, as squeue prints them, sorted into "still in the queue" and "ended".
public enum SlurmTaskState {
    /// States after which a task runs no more.
    public static let ended: Set<String> = [
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
        "DEADLINE", "SPECIAL_EXIT", "REVOKED",
    ]
    /// States of a task that has started.
    public static let started: Set<String> = ["RUNNING", "COMPLETING", "CONFIGURING", "SIGNALING", "STAGE_OUT", "RESIZING"]

    /// Queued or running (anything Slurm lists that has not ended, including held and suspended tasks).
    public static func isActive(_ state: String?) -> Bool {
        guard let state else { return false }
        return !ended.contains(baseName(state))
    }

    /// squeue may add a suffix (`CANCELLED by 0`): the first word.
    static func baseName(_ state: String) -> String {
        String(state.split(separator: " ").first ?? "")
    }
}
