import Foundation
import RobustTraining
import Tensor

/// One task of a grid's job array: runs exactly one run of `OUT/plan.json` through `GridRunner.execute`,
/// the function a local `compare` calls, so its record is the one a local run would store. The record is
/// written atomically and last: a task killed on the way (time limit, lost node) leaves no record, only
/// its per-epoch checkpoint, from which the next submission resumes. A task that fails with an error
/// leaves `failed/<id>.json` naming its log.
public struct SlurmTask {
    public let outDirectory: String
    public let mapFile: String
    public let index: Int

    public init(outDirectory: String, mapFile: String, index: Int) {
        self.outDirectory = outDirectory
        self.mapFile = mapFile
        self.index = index
    }

    public enum TaskError: Error, CustomStringConvertible {
        case missingFile(String)
        case unreadablePlan(String, String)
        case indexOutOfRange(Int, count: Int, map: String)
        case notInPlan(String, plan: String)

        public var description: String {
            switch self {
            case .missingFile(let path):
                return "\(path) does not exist: submit the grid with `robust-mri compare --slurm --out <dir>` first"
            case .unreadablePlan(let path, let reason):
                return "\(path) is not a comparison plan (\(reason)): submit again with `robust-mri compare --slurm`"
            case .indexOutOfRange(let index, let count, let map):
                return "array index \(index) is outside \(map) (\(count) runs): the array and its map file do not match"
            case .notInPlan(let id, let plan):
                return "run '\(id)' is not in \(plan): the map file belongs to another grid"
            }
        }
    }

    /// What a failed task leaves in `failed/<id>.json` (the keys of `GridRunner.Failure`, plus where to look).
    public struct Failure: Codable, Sendable {
        public var id: String
        public var error: String
        public var failedAt: Date
        /// The task's Slurm log, when the task knows it.
        public var log: String?
        /// `jobID_index` of the task.
        public var task: String?
    }

    /// The grid and the planned run of this task.
    public func resolve() throws -> (runner: GridRunner, planned: PlannedRun) {
        let planPath = "\(outDirectory)/plan.json"
        let configuration = try Self.loadPlan(planPath)
        guard let mapBytes = try AtomicFile.read(mapFile) else { throw TaskError.missingFile(mapFile) }
        let ids = String(decoding: mapBytes, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        guard ids.indices.contains(index) else { throw TaskError.indexOutOfRange(index, count: ids.count, map: mapFile) }
        guard let planned = configuration.plan().first(where: { $0.id == ids[index] }) else {
            throw TaskError.notInPlan(ids[index], plan: planPath)
        }
        return (GridRunner(configuration: configuration, outDirectory: outDirectory), planned)
    }

    /// The grid stored in `plan.json` (the one every task runs, whatever the submitting command said).
    public static func loadPlan(_ planPath: String) throws -> CompareConfiguration {
        guard let bytes = try AtomicFile.read(planPath) else { throw TaskError.missingFile(planPath) }
        do {
            return try JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(bytes))
        } catch {
            throw TaskError.unreadablePlan(planPath, "\(error)")
        }
    }

    /// Runs the task's run unless its record is already stored. `environment` gives Slurm's variables
    /// (to name the log in a failure record).
    @discardableResult
    public func run(observer: any TrainingObserver, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RunRecord? {
        let (runner, planned) = try resolve()
        if runner.store.contains(planned.id) {
            observer.message("run \(planned.id) is already stored in \(runner.store.path(for: planned.id)); nothing to do")
            return nil
        }
        observer.message("run \(planned.id) (\(mapFile) line \(index + 1))")
        do {
            let settings = runner.configuration.base
            let data = try ExperimentData.load(settings.data, threads: settings.training.threads)
            observer.message("data: \(settings.data.sourceName): \(data.summary)")
            return try runner.execute(planned, data: data, observer: observer)
        } catch {
            let task = Self.taskName(environment)
            let failure = Failure(id: planned.id, error: "\(error)", failedAt: Date(),
                                  log: task.map { "\(outDirectory)/slurm/logs/\($0).out" }, task: task)
            try? AtomicFile.write([UInt8](try JSONCoding.encoder.encode(failure)), to: runner.failurePath(planned.id))
            throw error
        }
    }

    /// `jobID_index` from Slurm's environment, nil outside Slurm.
    static func taskName(_ environment: [String: String]) -> String? {
        guard let job = environment["SLURM_ARRAY_JOB_ID"], let index = environment["SLURM_ARRAY_TASK_ID"] else { return nil }
        return "\(job)_\(index)"
    }
}
