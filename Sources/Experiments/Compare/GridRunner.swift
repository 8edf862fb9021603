import Foundation
import RobustTraining
import Tensor

/// Runs a comparison grid into an output directory, one run at a time, so that it survives being
/// killed: `plan.json` fixes the grid; each finished run leaves `runs/<id>.json` (written atomically,
/// last) plus its folder `runs/<id>/` (model, metrics, artifacts); a run in progress checkpoints every
/// epoch in its folder and resumes from there; a failed run leaves `failed/<id>.json` with its error
/// and is retried next time.
public struct GridRunner {
    public let configuration: CompareConfiguration
    public let outDirectory: String

    public init(configuration: CompareConfiguration, outDirectory: String) {
        self.configuration = configuration
        self.outDirectory = outDirectory
    }

    public var store: RunStore { RunStore(directory: "\(outDirectory)/runs") }
    public var planPath: String { "\(outDirectory)/plan.json" }
    public func runDirectory(_ id: String) -> String { "\(outDirectory)/runs/\(id)" }
    public func failurePath(_ id: String) -> String { "\(outDirectory)/failed/\(id).json" }

    public enum GridError: Error, CustomStringConvertible {
        /// plan.json's grid differs from this one in settings other than its selection: each, stored and now; and why
        /// the influence settings among them cannot change (a run has computed its influence scores), if they are.
        case differentPlan(String, differences: [SettingDifference], note: String? = nil)
        /// plan.json cannot be read as a grid.
        case unreadablePlan(String, reason: String)
        case failures([String: String])

        public var description: String {
            switch self {
            case let .differentPlan(path, differences, note):
                return """
                    \(path) describes another comparison: \(differences.count) setting(s) differ (only methods, noises and seeds may change, \
                    and the influence settings until an ISR or ISP run has computed its scores):
                    \(SettingDifference.lines(differences))
                    \(note.map { $0 + "\n" } ?? "")give the options that set the stored values, use a new --out directory, or delete it to start over
                    """
            case let .unreadablePlan(path, reason):
                return "\(path) is not a comparison plan (\(reason)): use a new --out directory, or delete it to start over"
            case .failures(let failures):
                let list = failures.sorted { $0.key < $1.key }.map { "  \($0.key): \($0.value)" }.joined(separator: "\n")
                return "\(failures.count) run(s) failed (the others are stored; run the same command again to retry them):\n\(list)"
            }
        }
    }

    public struct Failure: Codable, Sendable {
        public var id: String
        public var error: String
        public var failedAt: Date
    }

    /// Writes `plan.json`. When one is there already, the grid may change only in what it selects (methods,
    /// noises, seeds): every other setting, and the meaning of each noise name both grids use, must be the same,
    /// so that the stored runs are runs of this grid too. Extending a grid with more seeds therefore reuses
    /// the finished runs; changing, say, the epochs needs a new output directory. The influence settings may change
    /// too while no ISR or ISP run of the stored grid has computed its scores (`ResumeRule`, as `train --resume`):
    /// a grid whose influence step failed continues with, say, `--lissa-scale auto`.
    public func preparePlan() throws {
        var plan = configuration
        if let bytes = try AtomicFile.read(planPath) {
            let existing: CompareConfiguration
            do {
                existing = try JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(bytes))
            } catch {
                throw GridError.unreadablePlan(planPath, reason: "\(error)")
            }
            let differences = Self.differences(existing, configuration)
            let scored = differences.contains { ResumeRule.isInfluenceSetting($0, trainingPrefix: "training") }
                ? runPastItsInfluenceStep(in: existing) : nil
            let refused = ResumeRule.refused(differences, trainingPrefix: "training", influenceStepHasRun: scored != nil)
            guard refused.isEmpty else {
                let influenceRefused = refused.contains { ResumeRule.isInfluenceSetting($0, trainingPrefix: "training") }
                throw GridError.differentPlan(planPath, differences: refused, note: influenceRefused ? scored.map {
                    "the influence settings can change only until an ISR or ISP run of the grid has computed its influence scores; \($0) has"
                } : nil)
            }
            // The stored thread count stays (cluster tasks run with it; --cpus-per-task defaults to it).
            plan.base.training.threads = existing.base.training.threads
            if existing == plan { return }
        }
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(plan)), to: planPath)
    }

    /// A notice when the output folder holds finished runs this selection leaves out (a grid run again with fewer
    /// methods, noises or seeds): they stay in runs/, but the table and report are rewritten without them. nil when
    /// every stored run is planned.
    public func finishedRunsOutsideThePlan() -> String? {
        let planned = Set(configuration.plan().map(\.id))
        let outside = store.ids().filter { !planned.contains($0) }  // ids() is sorted
        guard !outside.isEmpty else { return nil }
        let shown = outside.prefix(4).joined(separator: ", ") + (outside.count > 4 ? ", ..." : "")
        return "note: \(outside.count) finished run(s) in \(outDirectory)/runs are not in this selection (\(shown)): they are kept, "
            + "but the table and report written now leave them out; name their methods, noises and seeds to include them"
    }

    /// The id of a run of `plan` that has computed its influence scores (a finished ISR or ISP run, or one whose
    /// checkpoint is past its switch epoch), or nil.
    func runPastItsInfluenceStep(in plan: CompareConfiguration) -> String? {
        plan.plan().first { planned in
            let training = planned.settings.training
            guard ResumeRule.influenceStepHasRun(training, completedEpochs: training.epochs) else { return false }
            if store.contains(planned.id) { return true }
            let checkpoint = "\(runDirectory(planned.id))/checkpoint.safetensors"
            guard let completed = try? TrainingCheckpoint.completedEpochs(at: checkpoint) else { return false }
            return ResumeRule.influenceStepHasRun(training, completedEpochs: completed)
        }?.id
    }

    /// Whether a run id means the same run in both grids (thread counts aside).
    static func sameRuns(_ a: CompareConfiguration, _ b: CompareConfiguration) -> Bool {
        differences(a, b).isEmpty
    }

    /// The settings in which a run id means another run in grid `b` than in the stored grid `a` (thread counts aside):
    /// the base settings (`training.epochs`, `data.imageSize`, ...), and the meaning of each noise name both grids use (`noises.<name>`...).
    public static func differences(_ a: CompareConfiguration, _ b: CompareConfiguration) -> [SettingDifference] {
        var baseA = a.base, baseB = b.base
        baseA.training.threads = 0
        baseB.training.threads = 0
        // A plan written before the reading settings existed read images the default way.
        baseA.data.reading = baseA.data.imageReading
        baseB.data.reading = baseB.data.imageReading
        var differences = SettingDifference.between(baseA, baseB)
        for noise in a.noises {
            if let other = b.noises.first(where: { $0.name == noise.name }) {
                differences += SettingDifference.between(noise.model, other.model, prefix: "noises.\(noise.name)")
            }
        }
        return differences
    }

    /// Runs of the plan without a stored record, in plan order.
    public func pending() -> [PlannedRun] {
        configuration.plan().filter { !store.contains($0.id) }
    }

    /// Every stored record of this plan.
    public func records() throws -> [RunRecord] {
        try configuration.plan().compactMap { try store.load(RunRecord.self, id: $0.id) }
    }

    /// Runs every pending run (or those in `only`); failures are recorded and reported together at the end.
    public func runPending(only: Set<String>? = nil, data: ExperimentData,
                           observer: (PlannedRun, _ index: Int, _ count: Int) -> any TrainingObserver) throws {
        try preparePlan()
        let todo = pending().filter { only?.contains($0.id) ?? true }
        var failures: [String: String] = [:]
        for (index, planned) in todo.enumerated() {
            let runObserver = observer(planned, index, todo.count)
            do {
                _ = try execute(planned, data: data, observer: runObserver)
            } catch {
                failures[planned.id] = "\(error)"
                runObserver.message("run \(planned.id) failed: \(error)")
                let failure = Failure(id: planned.id, error: "\(error)", failedAt: Date())
                try? AtomicFile.write([UInt8](try JSONCoding.encoder.encode(failure)), to: failurePath(planned.id))
            }
        }
        if !failures.isEmpty { throw GridError.failures(failures) }
    }

    /// Runs one planned run to completion (resuming its checkpoint if a previous attempt was killed) and
    /// stores its record. The same function serves local grids and cluster tasks, so both give identical records.
    @discardableResult
    public func execute(_ planned: PlannedRun, data: ExperimentData, observer: any TrainingObserver) throws -> RunRecord {
        let directory = runDirectory(planned.id)
        let outcome = try SingleRun(settings: planned.settings, directory: directory)
            .execute(data: data, id: planned.id, resumption: .continueIfPresent, observer: observer)
        var record = outcome.record
        record.noiseName = planned.noiseName
        try RunArtifacts.collect(state: outcome.state, method: outcome.method, data: outcome.data, seed: planned.settings.training.seed)
            .write(to: "\(directory)/artifacts.safetensors")
        try store.save(record, id: planned.id)
        // The per-epoch checkpoint is only for resuming this run; it can be large (ISP keeps its images).
        try? FileManager.default.removeItem(atPath: "\(directory)/checkpoint.safetensors")
        try? FileManager.default.removeItem(atPath: failurePath(planned.id))
        return record
    }
}
