import Foundation
import Testing
import Experiments
import MRIData
import NN
import RobustTraining
import Tensor

/// A grid small enough to run in a test: phantoms at 24 px, a tiny CNN, two epochs.
func tinyGrid(methods: [TrainingMethodKind] = [.naive], seeds: [UInt64] = [1, 2]) -> CompareConfiguration {
    var c = CompareConfiguration.quick()
    c.base.data.imageSize = 24
    c.base.data.phantom = PhantomConfiguration(count: 60, patients: 15, imageSize: 24, seed: 0)
    c.base.data.testNoiseFractions = [0, 1]
    c.base.training.model = CNNConfiguration(imageSize: 24, channels: [4, 8], kernelSize: 3, padding: .same)
    c.base.training.epochs = 2
    c.base.training.threads = 1
    c.methods = methods
    c.noises = [CompareConfiguration.paperNoises[0]]
    c.seeds = seeds
    return c
}

@Suite struct GridRunnerTests {
    func temporaryDirectory() -> String { NSTemporaryDirectory() + "grid-\(UUID().uuidString)" }

    @Test func runsTheGridStoresRecordsAndSkipsFinishedRuns() throws {
        let out = temporaryDirectory()
        let runner = GridRunner(configuration: tinyGrid(), outDirectory: out)
        let data = try ExperimentData.load(runner.configuration.base.data, threads: 1, verbose: false)
        #expect(runner.pending().map(\.id) == ["naive-gaussian-seed1", "naive-gaussian-seed2"])
        try runner.runPending(only: ["naive-gaussian-seed1"], data: data) { _, _, _ in SilentObserver() }
        #expect(runner.pending().map(\.id) == ["naive-gaussian-seed2"])
        // The finished run keeps its model, metrics and artifacts but not its resume checkpoint.
        let directory = runner.runDirectory("naive-gaussian-seed1")
        for file in ["model.safetensors", "metrics.jsonl", "artifacts.safetensors", "result.json", "config.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(directory)/\(file)"), "\(file)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/checkpoint.safetensors"))

        // A partial grid still reports.
        let partial = try ComparisonReport(runner: runner).write()
        #expect(partial.rows.count == 2 && partial.rows.allSatisfy { $0.runs == 1 })

        try runner.runPending(data: data) { _, _, _ in SilentObserver() }
        #expect(runner.pending().isEmpty)
        let records = try runner.records()
        #expect(records.count == 2 && records.allSatisfy { $0.epochs.count == 2 && $0.noiseName == "gaussian" })
        let written = try ComparisonReport(runner: runner).write()
        #expect(written.rows.allSatisfy { $0.runs == 2 })
        for file in ["table.md", "table.csv", "table.json", "report.html", "figures/accuracy.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
        func table() throws -> String { try String(contentsOfFile: "\(out)/table.md", encoding: .utf8) }
        #expect(!(try table()).contains("Resumed"))
        // A run that was resumed is named under the table: its times include the interrupted process.
        var resumed = records[0]
        resumed.resumedAfterEpoch = 1
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(resumed)), to: "\(out)/runs/\(resumed.id).json")
        try ComparisonReport(runner: runner).write()
        #expect(try table().contains("Resumed after an interruption") && (try table()).contains("\(resumed.id) (after epoch 1)"))
    }

    @Test func theSameRunGivesTheSameRecordWhereverItRuns() throws {
        let configuration = tinyGrid(seeds: [3])
        let a = GridRunner(configuration: configuration, outDirectory: temporaryDirectory())
        let b = GridRunner(configuration: configuration, outDirectory: temporaryDirectory())
        let data = try ExperimentData.load(configuration.base.data, threads: 1, verbose: false)
        let planned = configuration.plan()[0]
        let first = try a.execute(planned, data: data, observer: SilentObserver())
        let second = try b.execute(planned, data: data, observer: SilentObserver())
        #expect(first.epochs.map(\.trainLoss) == second.epochs.map(\.trainLoss))
        #expect(first.epochs.map(\.test) == second.epochs.map(\.test))
    }

    @Test func anotherGridInTheSameDirectoryIsRefused() throws {
        let out = temporaryDirectory()
        try GridRunner(configuration: tinyGrid(), outDirectory: out).preparePlan()
        var other = tinyGrid()
        other.base.training.epochs = 3
        #expect(throws: GridRunner.GridError.self) { try GridRunner(configuration: other, outDirectory: out).preparePlan() }
        // A different thread count is the same grid.
        var threads = tinyGrid()
        threads.base.training.threads = 2
        try GridRunner(configuration: threads, outDirectory: out).preparePlan()
    }

    /// A refused plan names every setting that differs, with the stored and the new value (a newcomer saw only
    /// "describes another comparison"), and the meaning of a noise name both grids use.
    @Test func aRefusedPlanNamesEachDifferingSettingWithBothValues() throws {
        let out = temporaryDirectory()
        try GridRunner(configuration: tinyGrid(), outDirectory: out).preparePlan()
        var other = tinyGrid()
        other.base.training.epochs = 3
        other.base.data.imageSize = 32
        other.noises = [NamedNoise(name: "gaussian", model: .gaussian(sigma: 20))]
        let error = #expect(throws: GridRunner.GridError.self) { try GridRunner(configuration: other, outDirectory: out).preparePlan() }
        let message = "\(try #require(error))"
        for line in ["training.epochs: stored 2, now 3", "data.imageSize: stored 24, now 32", "noises.gaussian.kind.gaussian.sigma: stored 32, now 20",
                     "plan.json"] {
            #expect(message.contains(line), "missing '\(line)' in\n\(message)")
        }
        #expect(!message.contains("threads"), "\(message)")
    }

    @Test func moreSeedsExtendTheGridAndReuseFinishedRuns() throws {
        let out = temporaryDirectory()
        let first = GridRunner(configuration: tinyGrid(seeds: [1]), outDirectory: out)
        let data = try ExperimentData.load(first.configuration.base.data, threads: 1, verbose: false)
        try first.runPending(data: data) { _, _, _ in SilentObserver() }
        let stored = try #require(try first.records().first)

        let extended = GridRunner(configuration: tinyGrid(seeds: [1, 2]), outDirectory: out)
        try extended.preparePlan()
        #expect(extended.pending().map(\.id) == ["naive-gaussian-seed2"])
        #expect(try extended.records().map(\.epochs) == [stored.epochs])
        // plan.json now describes the extended grid, so a later --status or --report-only sees both seeds.
        let plan = try JSONCoding.decoder.decode(CompareConfiguration.self,
                                                 from: Data(contentsOf: URL(fileURLWithPath: extended.planPath)))
        #expect(plan.seeds == [1, 2])
        #expect(extended.finishedRunsOutsideThePlan() == nil)
        // Run again with fewer seeds: the finished seed-1 run is kept but not in the table, and the command says so.
        let fewer = GridRunner(configuration: tinyGrid(seeds: [2]), outDirectory: out)
        let notice = try #require(fewer.finishedRunsOutsideThePlan())
        #expect(notice.contains("1 finished run(s)") && notice.contains("(naive-gaussian-seed1)"), "\(notice)")
        // A noise name that now means another noise would mix two grids under one id: refused.
        var renamed = tinyGrid(seeds: [1, 2])
        renamed.noises = [NamedNoise(name: "gaussian", model: .gaussian(sigma: 16))]
        #expect(throws: GridRunner.GridError.self) { try GridRunner(configuration: renamed, outDirectory: out).preparePlan() }
    }

    @Test func aFailingRunIsRecordedAndTheRestOfTheGridStillRuns() throws {
        var configuration = tinyGrid()
        configuration.base.training.learningRate = 1e30
        let out = temporaryDirectory()
        let runner = GridRunner(configuration: configuration, outDirectory: out)
        let data = try ExperimentData.load(configuration.base.data, threads: 1, verbose: false)
        #expect(throws: GridRunner.GridError.self) {
            try runner.runPending(data: data) { _, _, _ in SilentObserver() }
        }
        #expect(runner.pending().count == 2)
        #expect(FileManager.default.fileExists(atPath: runner.failurePath("naive-gaussian-seed1")))
        #expect(FileManager.default.fileExists(atPath: runner.failurePath("naive-gaussian-seed2")))
    }
}
