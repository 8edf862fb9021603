import Foundation

/// What every task of a grid's job array asks Slurm for. Each task runs one run of the plan, so these
/// are the needs of one run (see docs/cluster.md for sizes measured per image size).
public struct SlurmResources: Codable, Sendable, Equatable {
    public var partition: String?
    /// Time limit per task in any form sbatch takes (`2:00:00`, `1-00:00:00`, minutes).
    public var time: String?
    /// CPUs per task; nil = the plan's thread count.
    public var cpusPerTask: Int?
    /// Memory per task as sbatch takes it (`8G`, `4000M`).
    public var memory: String?
    /// At most this many tasks of the array run at once (sbatch's `--array=...%N`); nil = no cap.
    public var maxConcurrent: Int?
    /// Passed to sbatch unchanged, before the script (e.g. `--account=abc`, `--qos=long`).
    public var extraArguments: [String]
    public var jobName: String

    public init(partition: String? = nil, time: String? = nil, cpusPerTask: Int? = nil, memory: String? = nil,
                maxConcurrent: Int? = nil, extraArguments: [String] = [], jobName: String = "robust-mri") {
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.maxConcurrent = maxConcurrent
        self.extraArguments = extraArguments
        self.jobName = jobName
    }

    public struct InvalidResources: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public func validate() throws {
        if let cpusPerTask, cpusPerTask < 1 { throw InvalidResources(message: "--cpus-per-task must be at least 1 (got \(cpusPerTask))") }
        if let maxConcurrent, maxConcurrent < 1 { throw InvalidResources(message: "--max-concurrent must be at least 1 (got \(maxConcurrent))") }
        for (flag, value) in [("--partition", partition), ("--time", time), ("--mem", memory)] {
            if let value, value.isEmpty || value.contains(where: \.isWhitespace) {
                throw InvalidResources(message: "\(flag) needs a value without spaces (got '\(value)')")
            }
        }
    }

    /// sbatch's options for an array of `taskCount` tasks (indices 0..<taskCount) logging to `logDirectory`.
    /// `threads` fills in `--cpus-per-task` when it is not given.
    public func sbatchArguments(taskCount: Int, threads: Int, logDirectory: String) -> [String] {
        precondition(taskCount > 0, "an array needs at least one task (got \(taskCount))")
        var array = "--array=0-\(taskCount - 1)"
        if let maxConcurrent { array += "%\(maxConcurrent)" }
        var arguments = [array, "--job-name=\(jobName)", "--output=\(logDirectory)/%A_%a.out",
                         "--cpus-per-task=\(cpusPerTask ?? max(1, threads))"]
        if let partition { arguments.append("--partition=\(partition)") }
        if let time { arguments.append("--time=\(time)") }
        if let memory { arguments.append("--mem=\(memory)") }
        return arguments + extraArguments
    }

    /// The batch script every task runs: the same `robust-mri` binary as the submitting command, in its
    /// hidden `compare-task` mode, on the task's line of the map file given as the script's argument.
    public static func jobScript(executable: String, outDirectory: String) -> String {
        """
        #!/bin/bash
        # Written by `robust-mri compare --slurm`: one task of the array = one run of \(outDirectory)/plan.json.
        # Argument: the map file (line i = the run id of array task i).
        set -euo pipefail
        echo "robust-mri task ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?} on $(hostname) at $(date -Is)"
        exec \(shellQuoted(executable)) compare-task --out \(shellQuoted(outDirectory)) --map "$1" --index "$SLURM_ARRAY_TASK_ID"

        """
    }

    /// `text` as one word for bash (single quotes, inner quotes escaped).
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
