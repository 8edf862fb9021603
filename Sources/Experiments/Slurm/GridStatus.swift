import Foundation
import Tensor

/// Where each run of a grid stands, from the run store, the failure notes and (for a grid sent to
/// Slurm) squeue. Works for local grids too: without submissions every run is done, failed or missing.
///
/// The rules, first match wins: a stored record = done; a latest array task Slurm lists as not ended =
/// running or queued; a failure note, or a submitted task that Slurm no longer lists (or lists as ended)
/// without a record = failed (killed tasks leave no note: their log and Slurm state tell why); a run folder with a
/// checkpoint = started (a local run in progress or interrupted); else missing.
public struct GridStatus: Sendable {
    public enum State: String, Sendable, CaseIterable {
        case done, running, queued, failed, missing
        /// A local run with a checkpoint and no record: running now, or interrupted (the same compare command resumes it).
        case started
    }

    public struct Entry: Sendable {
        public var id: String
        public var state: State
        /// Slurm's state of the run's latest task, when Slurm still lists it.
        public var slurmState: String?
        /// `jobID_index` of the run's latest task.
        public var task: String?
        public var log: String?
        public var error: String?
    }

    public var entries: [Entry]
    /// Why Slurm's queue could not be read (nil when it was, or when nothing was submitted).
    public var queueProblem: String?
    public var submissionCount: Int

    public func count(_ state: State) -> Int { entries.filter { $0.state == state }.count }
    public var isComplete: Bool { entries.allSatisfy { $0.state == .done } }

    /// Reads the status of `grid`'s runs.
    public static func read(_ grid: SlurmGrid) throws -> GridStatus {
        let runner = grid.runner
        let latest = try grid.latestTasks()
        var states: [String: String] = [:]
        var queueProblem: String?
        if !latest.isEmpty {
            do { states = try grid.queueStates() } catch { queueProblem = "\(error)" }
        }
        var entries: [Entry] = []
        for planned in runner.configuration.plan() {
            let task = latest[planned.id]
            var entry = Entry(id: planned.id, state: .missing, slurmState: states[planned.id],
                              task: task.map { "\($0.jobID)_\($0.index)" }, log: task.map(grid.logPath), error: nil)
            let failure = try readFailure(runner.failurePath(planned.id))
            if runner.store.contains(planned.id) {
                entry.state = .done
            } else if SlurmTaskState.isActive(entry.slurmState), let state = entry.slurmState {
                entry.state = SlurmTaskState.started.contains(SlurmTaskState.baseName(state)) ? .running : .queued
            } else if let failure {
                entry.state = .failed
                entry.error = failure.error
                entry.log = failure.log ?? entry.log
            } else if task != nil && queueProblem == nil {
                entry.state = .failed
                entry.error = "the task ended without a record (\(entry.slurmState ?? "no longer listed by squeue")): see its log"
            } else if FileManager.default.fileExists(atPath: "\(runner.runDirectory(planned.id))/checkpoint.safetensors") {
                entry.state = .started
            }
            entries.append(entry)
        }
        return GridStatus(entries: entries, queueProblem: queueProblem, submissionCount: (try grid.submissions()).count)
    }

    static func readFailure(_ path: String) throws -> SlurmTask.Failure? {
        guard let bytes = try AtomicFile.read(path) else { return nil }
        // An unreadable note still says the run failed.
        return (try? JSONCoding.decoder.decode(SlurmTask.Failure.self, from: Data(bytes)))
            ?? SlurmTask.Failure(id: "", error: "failure note \(path) is unreadable", failedAt: Date(), log: nil, task: nil)
    }

    /// A plain-text summary: the counts, then one line per run that is not done, each failed run with its log.
    public func rendered(verbose: Bool = false) -> String {
        // `started` only where there are such runs, so the counts read as before for Slurm grids.
        let shown = State.allCases.filter { $0 != .started || count($0) > 0 }
        var text = shown.map { "\($0.rawValue) \(count($0))" }.joined(separator: ", ")
        text += " (of \(entries.count) runs; \(submissionCount) Slurm submission(s))\n"
        if let queueProblem { text += "Slurm's queue could not be read, so submitted runs without a record show as missing: \(queueProblem)\n" }
        for entry in entries where verbose || entry.state != .done {
            var line = "  \(entry.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(entry.id)"
            if let task = entry.task { line += "  task \(task)" }
            if let slurmState = entry.slurmState { line += " \(slurmState)" }
            text += line + "\n"
            if entry.state == .failed {
                if let error = entry.error { text += "           error: \(error.split(whereSeparator: \.isNewline).first ?? "")\n" }
                if let log = entry.log { text += "           log: \(log)\n" }
            }
        }
        return text
    }
}
