import Experiments
import Foundation
import Testing

/// `robust-mri compare` as a user runs it: killed mid-grid, it loses at most the run in progress.
@Suite(.serialized) struct CompareCLITests {
    static let grid = ["compare", "--methods", "naive", "--noises", "gaussian", "--seeds", "1", "2", "3",
                       "--image-size", "40", "--model", "same3x3", "--channels", "8,16", "--phantom-count", "150",
                       "--epochs", "4", "--threads", "1", "--test-noise-fraction", "0", "1"]

    @Test func aKilledGridLosesAtMostTheRunInProgress() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("compare-kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        let runs = folder.appendingPathComponent("grid/runs")
        func records() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        }
        let (process, _, _) = try cli.start(Self.grid + ["--out", "grid"], in: folder)
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline && records().isEmpty { usleep(5_000) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try #require(killed, "the grid finished before it could be killed: make the setting slower")
        let finished = records()
        #expect(finished.count >= 1 && finished.count < 3, "\(finished)")
        let firstRecord = runs.appendingPathComponent(finished[0])
        let before = try Data(contentsOf: firstRecord)

        let again = try cli.run(Self.grid + ["--out", "grid"], in: folder)
        try #require(again.status == 0, "\(again.transcript)")
        #expect(again.error.contains("\(finished.count) already done"), "\(again.transcript)")
        #expect(records() == ["naive-gaussian-seed1.json", "naive-gaussian-seed2.json", "naive-gaussian-seed3.json"])
        #expect(try Data(contentsOf: firstRecord) == before, "a finished run was redone")
        for file in ["table.md", "table.csv", "table.json", "report.html", "figures/accuracy.png"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("grid/\(file)").path), "\(file)")
        }
        #expect(again.output.contains("| naive | gaussian | 1 | 3 |"), "\(again.transcript)")

        // Once complete, the same command trains nothing and rebuilds the same table.
        let third = try cli.run(Self.grid + ["--out", "grid"], in: folder)
        #expect(third.status == 0 && third.error.contains("3 already done"), "\(third.transcript)")
    }

    @Test func anotherGridIntoTheSameFolderIsRefused() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("compare-plan")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tiny = ["compare", "--methods", "naive", "--noises", "gaussian", "--seeds", "1", "--image-size", "24",
                    "--model", "same3x3", "--channels", "4,8", "--phantom-count", "60", "--epochs", "1", "--threads", "1", "--out", "g"]
        let first = try cli.run(tiny, in: folder)
        try #require(first.status == 0, "\(first.transcript)")
        let other = try cli.run(tiny + ["--lr", "0.001"], in: folder)
        // The refusal names the setting that differs with both values (a newcomer saw only "another comparison").
        expectCleanFailure(other, mentioning: ["plan.json", "another comparison", "training.learningRate: stored 0.01, now 0.001"])
    }

    /// The quick preset shortened with --epochs alone: its T (6) and AT radius warm-up (4) do not fit 2 epochs, so they
    /// shrink in proportion (a newcomer's `compare --preset quick --epochs 2` stopped at "ISR's switch epoch T (6)").
    @Test func aShortenedPresetShrinksItsSwitchEpochAndWarmUp() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("compare-short")
        defer { try? FileManager.default.removeItem(at: folder) }
        let short = ["compare", "--preset", "quick", "--methods", "isr", "at", "--noises", "gaussian", "--seeds", "1",
                     "--image-size", "24", "--channels", "4,8", "--phantom-count", "60", "--epochs", "2", "--threads", "1"]
        let result = try cli.run(short + ["--out", "g"], in: folder)
        try #require(result.status == 0, "\(result.transcript)")
        let plan = try JSONDecoder().decode(CompareConfiguration.self,
                                            from: Data(contentsOf: folder.appendingPathComponent("g/plan.json")))
        #expect(plan.base.training.epochs == 2 && plan.base.training.isr.switchEpoch == 1
                && plan.base.training.adversarial.epsilonWarmupEpochs == 1, "\(plan.base.training)")
        let given = try cli.run(short + ["--switch-epoch", "2", "--out", "h"], in: folder)
        expectCleanFailure(given, mentioning: ["switch epoch", "2"])
    }

    /// The report of a short grid without AT: titled by what ran, its range column naming the epochs it spans, and no
    /// PGD column (it had one, empty, whatever the methods).
    @Test func theReportNamesWhatRanAndShowsOnlyColumnsItHas() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("compare-report")
        defer { try? FileManager.default.removeItem(at: folder) }
        let grid = ["compare", "--preset", "paper", "--recipe", "stable", "--methods", "naive", "--noises", "gaussian", "--seeds", "1"]
            + tinyRun + ["--epochs", "2", "--out", "g"]
        let result = try cli.run(grid, in: folder)
        try #require(result.status == 0, "\(result.transcript)")
        let table = try String(contentsOf: folder.appendingPathComponent("g/table.md"), encoding: .utf8)
        let report = try String(contentsOf: folder.appendingPathComponent("g/report.html"), encoding: .utf8)
        #expect(table.hasPrefix("# Comparison: paper preset, stable recipe, other settings changed"), "\(table)")
        #expect(table.contains("`training.epochs` 20 → 2"), "\(table)")
        #expect(table.contains("range over last 2 epochs") && !table.contains("last 5 epochs"), "\(table)")
        #expect(report.contains("paper preset, stable recipe") && report.contains("range over last 2 epochs"))
        #expect(!table.contains("PGD") && !report.contains("PGD-10 robust"), "a grid without AT shows a PGD column")
    }
}
