import Foundation

/// The only contact with Slurm: runs its own commands (`sbatch`, `squeue`) and parses what they print.
/// RobustMRI schedules nothing itself. The executables are configurable so that tests can stand in
/// small shell scripts for them.
public struct SlurmClient: Sendable {
    /// Name (looked up in PATH) or path of each command.
    public var sbatch: String
    public var squeue: String

    public init(sbatch: String = "sbatch", squeue: String = "squeue") {
        self.sbatch = sbatch
        self.squeue = squeue
    }

    /// What one command printed and how it ended.
    public struct CommandResult: Sendable {
        public var status: Int32
        public var output: String
        public var errorOutput: String
    }

    public enum ClientError: Error, CustomStringConvertible {
        case notFound(String)
        case failed(command: String, status: Int32, message: String)
        case unexpectedOutput(command: String, output: String)

        public var description: String {
            switch self {
            case .notFound(let name):
                return "'\(name)' was not found in PATH: run this on a Slurm login node (or a machine with the Slurm client commands)"
            case .failed(let command, let status, let message):
                let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
                return "\(command) failed (exit status \(status))\(text.isEmpty ? "" : ": \(text)")"
            case .unexpectedOutput(let command, let output):
                return "\(command) printed something unexpected: '\(output.trimmingCharacters(in: .whitespacesAndNewlines))'"
            }
        }
    }

    /// Submits a batch script; returns the job id (`sbatch --parsable` prints `id` or `id;cluster`).
    /// `arguments` are sbatch's options; `script` and `scriptArguments` follow them.
    public func submit(arguments: [String], script: String, scriptArguments: [String]) throws -> String {
        let all = ["--parsable"] + arguments + [script] + scriptArguments
        let result = try run(sbatch, all)
        guard result.status == 0 else {
            throw ClientError.failed(command: "sbatch", status: result.status, message: result.errorOutput + result.output)
        }
        guard let jobID = Self.parseSubmission(result.output) else {
            throw ClientError.unexpectedOutput(command: "sbatch --parsable", output: result.output)
        }
        return jobID
    }

    /// The state of every task of these array jobs that Slurm still knows (finished ones stay listed for
    /// its MinJobAge), keyed by array job id and task index. Job ids Slurm no longer knows are left out.
    public func arrayTaskStates(jobIDs: [String]) throws -> [ArrayTaskKey: String] {
        guard !jobIDs.isEmpty else { return [:] }
        let format = ["-h", "-r", "-t", "all", "-o", "%F|%K|%T"]
        let result = try run(squeue, format + ["-j", jobIDs.joined(separator: ",")])
        if result.status == 0 { return Self.parseQueue(result.output) }
        // squeue rejects the whole list when one id has been purged: ask for each job alone.
        var states: [ArrayTaskKey: String] = [:]
        for jobID in jobIDs {
            let single = try run(squeue, format + ["-j", jobID])
            if single.status == 0 {
                states.merge(Self.parseQueue(single.output)) { _, new in new }
            } else if !single.errorOutput.lowercased().contains("invalid job id") {
                throw ClientError.failed(command: "squeue", status: single.status, message: single.errorOutput)
            }
        }
        return states
    }

    /// One task of an array job.
    public struct ArrayTaskKey: Hashable, Sendable, Comparable {
        public var jobID: String
        public var index: Int

        public init(jobID: String, index: Int) {
            self.jobID = jobID
            self.index = index
        }

        public static func < (a: Self, b: Self) -> Bool { (a.jobID, a.index) < (b.jobID, b.index) }
    }

    /// `1234` or `1234;cluster` -> `1234`.
    static func parseSubmission(_ output: String) -> String? {
        let line = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    /// Lines `arrayJobID|taskIndex|STATE`. The index is one number, or (for tasks not yet split off a
    /// pending array) a range list like `[3-5,8%2]`; non-array jobs (`N/A`) are skipped.
    static func parseQueue(_ output: String) -> [ArrayTaskKey: String] {
        var states: [ArrayTaskKey: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else { continue }
            for index in parseIndices(fields[1]) {
                states[ArrayTaskKey(jobID: fields[0], index: index)] = fields[2]
            }
        }
        return states
    }

    /// `7` -> [7]; `[0-2,5%4]` -> [0, 1, 2, 5]; anything else -> [].
    static func parseIndices(_ text: String) -> [Int] {
        var body = Substring(text)
        if body.hasPrefix("[") && body.hasSuffix("]") { body = body.dropFirst().dropLast() }
        if let percent = body.firstIndex(of: "%") { body = body[..<percent] }
        var indices: [Int] = []
        for part in body.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            if bounds.count == 1, let single = bounds[0] {
                indices.append(single)
            } else if bounds.count == 2, let low = bounds[0], let high = bounds[1], low <= high {
                indices.append(contentsOf: low...high)
            } else {
                return []
            }
        }
        return indices
    }

    /// Runs a command found in PATH (or at a path) and collects what it prints.
    public func run(_ command: String, _ arguments: [String]) throws -> CommandResult {
        guard let executable = Self.locate(command) else { throw ClientError.notFound(command) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to the end before waiting, so a chatty command cannot fill a pipe and block.
        let errorData = UncheckedBox<Data>(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errorData.value = errors.fileHandleForReading.readDataToEndOfFile()
            errorsRead.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                             errorOutput: String(decoding: errorData.value, as: UTF8.self))
    }

    /// The executable for `command`: itself when it contains a slash, else the first match in PATH.
    public static func locate(_ command: String) -> String? {
        let manager = FileManager.default
        if command.contains("/") { return manager.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(command)"
            if manager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A mutable box filled by one helper thread that is waited for before the value is read.
private final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
