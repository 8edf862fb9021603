import Foundation
import Testing
import NN
import RobustTraining
import Tensor
@testable import Experiments

/// `compare --slurm` without Slurm: sbatch and squeue are stood in for by small shell scripts, so these tests
/// check the command lines, the parsing, what is (re)submitted and the status rules. The real daemons are
/// exercised by scripts/slurm/integration-test.sh.
@Suite struct SlurmTests {
    /// A temporary grid folder with fake `sbatch` (logs its arguments, prints a job id) and `squeue`
    /// (prints the file `queue.txt`, or fails printing `queue.fail` when that exists).
    struct FakeSlurm {
        let root: String
        var out: String { "\(root)/out" }
        var client: SlurmClient { SlurmClient(sbatch: "\(root)/bin/sbatch", squeue: "\(root)/bin/squeue") }

        init() throws {
            root = NSTemporaryDirectory() + "slurm-tests-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: "\(root)/bin", withIntermediateDirectories: true)
            try Self.script("""
                #!/bin/bash
                n=$(( $(cat "\(root)/jobs" 2>/dev/null || echo 4200) + 1 )); echo $n > "\(root)/jobs"
                printf '%s\\n' "$@" > "\(root)/sbatch-$n.args"
                echo "$n;testcluster"
                """, at: "\(root)/bin/sbatch")
            try Self.script("""
                #!/bin/bash
                printf '%s\\n' "$@" > "\(root)/squeue.args"
                [ -e "\(root)/queue.fail" ] && { cat "\(root)/queue.fail" >&2; exit 1; }
                cat "\(root)/queue.txt" 2>/dev/null || true
                """, at: "\(root)/bin/squeue")
        }

        static func script(_ text: String, at path: String) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }

        func setQueue(_ lines: [String]) throws {
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(root)/queue.txt", atomically: true, encoding: .utf8)
        }

        func sbatchArguments(job: Int) throws -> [String] {
            try String(contentsOfFile: "\(root)/sbatch-\(job).args", encoding: .utf8).split(separator: "\n").map(String.init)
        }

        /// Marks a run as finished the way the store sees it (a record file).
        func markDone(_ id: String) throws {
            try FileManager.default.createDirectory(atPath: "\(out)/runs", withIntermediateDirectories: true)
            try "{}".write(toFile: "\(out)/runs/\(id).json", atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A grid of 2 methods x 1 noise x 2 seeds, tiny enough to train in well under a second per run.
    static func tinyGrid(methods: [TrainingMethodKind] = [.naive, .at], seeds: [UInt64] = [1, 2]) -> CompareConfiguration {
        var c = CompareConfiguration.quick()
        c.base.data.imageSize = 32
        c.base.data.phantom.imageSize = 32
        c.base.data.phantom.count = 60
        c.base.data.phantom.patients = 12
        c.base.training.model = CNNConfiguration(imageSize: 32, channels: [4, 8], kernelSize: 3, padding: .same)
        c.base.training.epochs = 2
        c.base.training.threads = 1
        c.methods = methods
        c.noises = [CompareConfiguration.paperNoises[0]]
        c.seeds = seeds
        return c
    }

    @Test func parsesSbatchAndSqueueOutput() {
        #expect(SlurmClient.parseSubmission("4242\n") == "4242")
        #expect(SlurmClient.parseSubmission("4242;cluster\n") == "4242")
        #expect(SlurmClient.parseSubmission("sbatch: error: bad") == nil)
        #expect(SlurmClient.parseIndices("7") == [7])
        #expect(SlurmClient.parseIndices("[0-2,5%4]") == [0, 1, 2, 5])
        #expect(SlurmClient.parseIndices("N/A") == [])
        let states = SlurmClient.parseQueue("10|0|RUNNING\n10|[1-2%2]|PENDING\n11|N/A|RUNNING\n12|3|CANCELLED by 0\n")
        #expect(states.count == 4)
        #expect(states[.init(jobID: "10", index: 0)] == "RUNNING")
        #expect(states[.init(jobID: "10", index: 2)] == "PENDING")
        #expect(states[.init(jobID: "12", index: 3)] == "CANCELLED by 0")
        #expect(SlurmTaskState.isActive("PENDING") && SlurmTaskState.isActive("REQUEUE_HOLD"))
        #expect(!SlurmTaskState.isActive("CANCELLED by 0") && !SlurmTaskState.isActive("TIMEOUT") && !SlurmTaskState.isActive(nil))
    }

    @Test func buildsTheArrayRequestAndJobScript() throws {
        let resources = SlurmResources(partition: "gpu", time: "4:00:00", memory: "8G", maxConcurrent: 3,
                                       extraArguments: ["--account=abc"], jobName: "robust-mri-paper")
        #expect(resources.sbatchArguments(taskCount: 50, threads: 4, logDirectory: "/o/slurm/logs") == [
            "--array=0-49%3", "--job-name=robust-mri-paper", "--output=/o/slurm/logs/%A_%a.out", "--cpus-per-task=4",
            "--partition=gpu", "--time=4:00:00", "--mem=8G", "--account=abc"])
        #expect(SlurmResources(cpusPerTask: 8).sbatchArguments(taskCount: 1, threads: 2, logDirectory: "l")
            == ["--array=0-0", "--job-name=robust-mri", "--output=l/%A_%a.out", "--cpus-per-task=8"])
        let script = SlurmResources.jobScript(executable: "/opt/it's/robust-mri", outDirectory: "/data/out")
        #expect(script.hasPrefix("#!/bin/bash\n"))
        #expect(script.contains("exec '/opt/it'\\''s/robust-mri' compare-task --out '/data/out' --map \"$1\" --index \"$SLURM_ARRAY_TASK_ID\""))
        #expect(throws: SlurmResources.InvalidResources.self) { try SlurmResources(maxConcurrent: 0).validate() }
        #expect(throws: SlurmResources.InvalidResources.self) { try SlurmResources(time: "1 day").validate() }
    }

    @Test func submitsOnlyWhatIsMissingOrFailed() throws {
        let fake = try FakeSlurm()
        defer { fake.remove() }
        let grid = SlurmGrid(runner: GridRunner(configuration: Self.tinyGrid(), outDirectory: fake.out), client: fake.client)
        let ids = grid.runner.configuration.plan().map(\.id)
        try fake.markDone(ids[0])

        guard case .submitted(let first, let active) = try grid.submit(resources: SlurmResources(maxConcurrent: 2), executable: "/bin/robust-mri") else {
            Issue.record("the first submission sent nothing"); return
        }
        #expect(first.jobID == "4201" && first.number == 1 && active == 0)
        #expect(first.runIDs == Array(ids.dropFirst()))
        #expect(try String(contentsOfFile: first.mapFile, encoding: .utf8) == ids.dropFirst().joined(separator: "\n") + "\n")
        let arguments = try fake.sbatchArguments(job: 4201)
        #expect(arguments.first == "--parsable" && arguments.contains("--array=0-2%2") && arguments.contains("--cpus-per-task=1"))
        #expect(Array(arguments.suffix(2)) == [grid.scriptPath, first.mapFile])
        #expect(try String(contentsOfFile: grid.scriptPath, encoding: .utf8).contains("'/bin/robust-mri' compare-task --out '\(fake.out)'"))
        #expect(FileManager.default.fileExists(atPath: grid.runner.planPath))

        // Task 0 is running and task 1 queued; task 2 (ids[3]) ended without a record: only it goes again.
        try fake.setQueue(["4201|0|RUNNING", "4201|[1%2]|PENDING", "4201|2|TIMEOUT"])
        var moreThreads = Self.tinyGrid()
        moreThreads.base.training.threads = 5   // the tasks run plan.json's 1 thread: ask for 1 CPU
        let regrid = SlurmGrid(runner: GridRunner(configuration: moreThreads, outDirectory: fake.out), client: fake.client)
        guard case .submitted(let second, let stillActive) = try regrid.submit(resources: SlurmResources(), executable: "/bin/robust-mri") else {
            Issue.record("the second submission sent nothing"); return
        }
        #expect(second.runIDs == [ids[3]] && second.number == 2 && stillActive == 2)
        #expect(try fake.sbatchArguments(job: 4202).starts(with: ["--parsable", "--array=0-0", "--job-name=robust-mri",
                                                                 "--output=\(grid.logDirectory)/%A_%a.out", "--cpus-per-task=1"]))
        #expect(try String(contentsOfFile: "\(fake.root)/squeue.args", encoding: .utf8).contains("4201"))
        #expect(try grid.submissions().map(\.jobID) == ["4201", "4202"])

        try fake.setQueue(["4201|0|RUNNING", "4201|1|PENDING", "4202|0|PENDING"])
        guard case .allActive(3) = try grid.submit(resources: SlurmResources(), executable: "/bin/robust-mri") else {
            Issue.record("runs in the queue were sent again"); return
        }
        for id in ids { try fake.markDone(id) }
        guard case .complete = try grid.submit(resources: SlurmResources(), executable: "/bin/robust-mri") else {
            Issue.record("a complete grid was submitted"); return
        }
        #expect(try grid.submissions().count == 2)
    }

    @Test func statusCombinesTheStoreFailureNotesAndTheQueue() throws {
        let fake = try FakeSlurm()
        defer { fake.remove() }
        let grid = SlurmGrid(runner: GridRunner(configuration: Self.tinyGrid(seeds: [1, 2, 3]), outDirectory: fake.out), client: fake.client)
        let ids = grid.runner.configuration.plan().map(\.id)   // 6 runs
        #expect(try GridStatus.read(grid).count(.missing) == 6)

        guard case .submitted = try grid.submit(resources: SlurmResources(), executable: "/bin/robust-mri") else {
            Issue.record("nothing submitted"); return
        }
        try fake.markDone(ids[0])
        let note = SlurmTask.Failure(id: ids[3], error: "could not write x\nmore", failedAt: Date(), log: "/logs/4201_3.out", task: "4201_3")
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(note)), to: grid.runner.failurePath(ids[3]))
        try fake.setQueue(["4201|0|COMPLETED", "4201|1|RUNNING", "4201|2|PENDING", "4201|3|FAILED", "4201|4|TIMEOUT"])
        let status = try GridStatus.read(grid)
        #expect(status.entries.map(\.state) == [.done, .running, .queued, .failed, .failed, .failed])
        #expect(status.entries[3].error == note.error && status.entries[3].log == "/logs/4201_3.out")
        #expect(status.entries[4].slurmState == "TIMEOUT" && status.entries[4].log == grid.logPath(.init(jobID: "4201", index: 4)))
        #expect(status.entries[5].error?.contains("no longer listed") == true)
        let text = status.rendered()
        #expect(text.hasPrefix("done 1, running 1, queued 1, failed 3, missing 0 (of 6 runs; 1 Slurm submission(s))"))
        #expect(text.contains("log: /logs/4201_3.out") && text.contains("error: could not write x\n"))

        // Slurm has forgotten the job (past MinJobAge): its tasks without a record failed.
        try "squeue: error: Invalid job id specified".write(toFile: "\(fake.root)/queue.fail", atomically: true, encoding: .utf8)
        let purged = try GridStatus.read(grid)
        #expect(purged.queueProblem == nil)
        #expect(purged.entries.map(\.state) == [.done, .failed, .failed, .failed, .failed, .failed])

        // Without a readable queue, submitted runs without a record or note are missing, not failed.
        try "squeue: error: Unable to contact slurm controller".write(toFile: "\(fake.root)/queue.fail", atomically: true, encoding: .utf8)
        let blind = try GridStatus.read(grid)
        #expect(blind.queueProblem != nil)
        #expect(blind.entries.map(\.state) == [.done, .missing, .missing, .failed, .missing, .missing])
    }

    @Test func aTaskStoresTheRecordALocalRunStores() throws {
        let fake = try FakeSlurm()
        defer { fake.remove() }
        let configuration = Self.tinyGrid(methods: [.naive], seeds: [3])
        let local = GridRunner(configuration: configuration, outDirectory: "\(fake.root)/local")
        try local.runPending(data: try ExperimentData.load(configuration.base.data, threads: 1, verbose: false)) { _, _, _ in SilentObserver() }

        let grid = SlurmGrid(runner: GridRunner(configuration: configuration, outDirectory: fake.out), client: fake.client)
        guard case .submitted(let submission, _) = try grid.submit(resources: SlurmResources(), executable: "/bin/robust-mri") else {
            Issue.record("nothing submitted"); return
        }
        let id = submission.runIDs[0]
        // A task that cannot write its run folder fails, leaves a note naming its log, and no record.
        try AtomicFile.write("in the way", to: grid.runner.runDirectory(id))
        let task = SlurmTask(outDirectory: fake.out, mapFile: submission.mapFile, index: 0)
        let environment = ["SLURM_ARRAY_JOB_ID": submission.jobID, "SLURM_ARRAY_TASK_ID": "0"]
        #expect(throws: (any Error).self) { try task.run(observer: SilentObserver(), environment: environment) }
        #expect(!grid.runner.store.contains(id))
        let note = try #require(try GridStatus.readFailure(grid.runner.failurePath(id)))
        #expect(note.log == "\(fake.out)/slurm/logs/\(submission.jobID)_0.out" && note.error.contains(grid.runner.runDirectory(id)))

        try FileManager.default.removeItem(atPath: grid.runner.runDirectory(id))
        let record = try #require(try task.run(observer: SilentObserver(), environment: environment))
        let stored = try #require(try grid.runner.store.load(RunRecord.self, id: id))
        let localRecord = try #require(try local.store.load(RunRecord.self, id: id))
        #expect(!FileManager.default.fileExists(atPath: grid.runner.failurePath(id)))
        #expect(stored.epochs.count == 2 && stored.noiseName == "gaussian")
        #expect(stored.settings == localRecord.settings && record.settings == localRecord.settings)
        #expect(stored.epochs.map(Self.withoutTimings) == localRecord.epochs.map(Self.withoutTimings))
        #expect(try task.run(observer: SilentObserver(), environment: environment) == nil)   // already stored: nothing to do

        #expect(throws: SlurmTask.TaskError.self) { try SlurmTask(outDirectory: fake.out, mapFile: submission.mapFile, index: 5).resolve() }
    }

    static func withoutTimings(_ metrics: EpochMetrics) -> EpochMetrics {
        var m = metrics
        m.seconds = 0
        m.imagesPerSecond = 0
        return m
    }
}
