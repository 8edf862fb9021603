import Experiments
import Foundation
import RobustTraining
import Testing

/// ISR and ISP at their switch epoch T as a user meets them: a LiSSA scale below the Hessian's top eigenvalue no longer
/// wastes the epochs before T (`train --method isr --switch-epoch 3 --image-size 64 --epochs 5` died there with the
/// authors' scale 50 under an eigenvalue of 70), and a run stopped at T resumes with other influence settings.
@Suite(.serialized) struct InfluenceStepCLITests {
    /// 64 px phantoms on a 4-channel network: after one epoch the last layer's Hessian has a top eigenvalue of ~250,
    /// far above the default LiSSA scale of 50.
    static let largeEigenvalueRun = ["train", "--method", "isr", "--image-size", "64", "--phantom-count", "100", "--channels", "4,4",
                                     "--epochs", "2", "--switch-epoch", "1", "--threads", "1"]

    static func record(_ folder: URL, _ run: String) throws -> RunRecord {
        try JSONCoding.decoder.decode(RunRecord.self, from: Data(contentsOf: folder.appendingPathComponent("\(run)/result.json")))
    }

    @Test func aFixedScaleBelowTheTopEigenvalueFallsBackToAutoWithARecordedWarning() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("lissa-fallback")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try cli.run(Self.largeEigenvalueRun + ["--out", "run"], in: folder)
        try #require(result.status == 0, "\(result.transcript)")
        let log = result.output + result.error
        #expect(log.contains("warning: the LiSSA scale 50 is not above the last-layer Hessian's largest eigenvalue"), "\(result.transcript)")
        #expect(log.contains("used the automatic scale") && log.contains("--lissa-scale auto"), "\(result.transcript)")
        let record = try Self.record(folder, "run")
        let warnings = record.epochs[1].warnings ?? []
        #expect(warnings.contains { $0.hasPrefix("the LiSSA scale 50 is not above") && $0.contains("or more") }, "\(warnings)")
        #expect(record.epochs[1].event?.contains("solver lissa") == true, "\(String(describing: record.epochs[1].event))")
        #expect(record.settings.training.influence.lissaScale == .fixed(50), "the stored setting is what was asked for")

        // With --lissa-scale auto (what the warning suggests) the same run says nothing of the kind.
        let automatic = try cli.run(Self.largeEigenvalueRun + ["--lissa-scale", "auto", "--out", "auto"], in: folder)
        try #require(automatic.status == 0, "\(automatic.transcript)")
        #expect(!(automatic.output + automatic.error).contains("the LiSSA scale"), "\(automatic.transcript)")
        // The fallback is that run: the same scores, so the same epochs.
        #expect(try Self.record(folder, "auto").epochs.map(\.trainLoss) == record.epochs.map(\.trainLoss))

        // The standalone `influence` command is an explicit computation: it refuses, naming the fix (the final model's
        // eigenvalue is below 50, so a smaller scale is asked for).
        let influence = try cli.run(["influence", "--checkpoint", "run/model.safetensors", "--lissa-scale", "5", "--out", "ranking"], in: folder)
        expectCleanFailure(influence, mentioning: ["is not above the Hessian's largest eigenvalue", "--lissa-scale auto"])
    }

    /// A run stopped at T (here a singular exact solve without damping) resumes with other influence settings; once its
    /// influence step has run, they are refused with the reason.
    @Test func influenceSettingsMayChangeOnResumeOnlyBeforeTheInfluenceStep() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("resume-influence")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = ["train", "--method", "isr", "--epochs", "3", "--switch-epoch", "1", "--solver", "exact"] + tinyRun + ["--out", "run"]
        let stopped = try cli.run(run + ["--damping", "0"], in: folder)
        expectCleanFailure(stopped, mentioning: ["not positive definite", "damping 0", "raise --damping", "--solver cg"])
        let message = stopped.error.split(separator: "\n").first { $0.hasPrefix("Error:") } ?? ""
        #expect(message.components(separatedBy: "raise").count == 2, "the fix is given more than once\n\(stopped.transcript)")
        let resumed = try cli.run(run + ["--resume"], in: folder)
        try #require(resumed.status == 0, "\(resumed.transcript)")
        #expect(resumed.error.contains("resuming run after epoch 1 of 3, with influence settings changed before the influence step"),
                "\(resumed.transcript)")
        #expect(resumed.error.contains("training.influence.damping: stored 0, now 2.5"), "\(resumed.transcript)")
        let record = try Self.record(folder, "run")
        #expect(record.resumedAfterEpoch == 1 && record.settings.training.influence.damping == 2.5)
        #expect(record.epochs[1].event?.contains("damping 2.5") == true)

        let after = try cli.run(run + ["--resume", "--damping", "5"], in: folder)
        expectCleanFailure(after, mentioning: ["cannot resume run", "training.influence.damping: stored 2.5, now 5",
                                               "only before the influence step, which ran at the start of epoch 2 (T = 1)"])
    }

    /// compare applies the same rule to its plan: a grid whose ISR run stopped at T continues with other influence
    /// settings; once a run has its scores, they are refused.
    @Test func aGridChangesItsInfluenceSettingsOnlyBeforeAnyRunHasScores() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("grid-influence")
        defer { try? FileManager.default.removeItem(at: folder) }
        let grid = ["compare", "--methods", "isr", "--noises", "gaussian", "--seeds", "1", "--epochs", "2", "--switch-epoch", "1",
                    "--solver", "exact"] + tinyRun + ["--out", "g"]
        let stopped = try cli.run(grid + ["--damping", "0"], in: folder)
        expectCleanFailure(stopped, mentioning: ["isr-gaussian-seed1", "not positive definite"])
        let again = try cli.run(grid, in: folder)
        try #require(again.status == 0, "\(again.transcript)")
        let plan = try JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(contentsOf: folder.appendingPathComponent("g/plan.json")))
        #expect(plan.base.training.influence.damping == 2.5)
        let changed = try cli.run(grid + ["--damping", "5"], in: folder)
        expectCleanFailure(changed, mentioning: ["training.influence.damping: stored 2.5, now 5", "isr-gaussian-seed1 has"])
    }
}
