import Experiments
import Foundation
import MRIData
import Testing

/// The files of a run as a newcomer meets them through the tool: a command on a saved model takes its run's
/// config.json; a file of a run that is not its model is named for what it is; a refused resume or grid names what
/// differs; `compare --status` reports the grid planned in plan.json.
@Suite(.serialized) struct RunFilesCLITests {
    /// A tiny run at 32 px (train's default is 128) with Rician noise and seed 3, in `folder/run`.
    static func trainTinyRun(_ cli: CLI, in folder: URL) throws {
        let trained = try cli.run(["train"] + tinyRun + ["--epochs", "1", "--seed", "3", "--noise", "rician", "--out", "run"], in: folder)
        try #require(trained.status == 0, "\(trained.transcript)")
    }

    /// `influence --checkpoint` alone takes the image size, the data, the noise and the seed from the run's config.json,
    /// as evaluate does, and says so (it loaded train's default 128 px phantoms and stopped at the size mismatch).
    @Test func influenceTakesItsSettingsFromTheRunsConfig() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("influence-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainTinyRun(cli, in: folder)
        let ranked = try cli.run(["influence", "--checkpoint", "run/model.safetensors", "--lissa-scale", "auto", "--figure1-count", "0",
                                  "--out", "influence"], in: folder)
        try #require(ranked.status == 0, "\(ranked.transcript)")
        #expect(ranked.error.contains("data settings and seed (3) from run/config.json"), "\(ranked.transcript)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("influence/summary.json")))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run/result.json")))
        let n = try #require((summary as? [String: Any])?["n"] as? Int)
        let summaryText = try #require((record as? [String: Any])?["dataSummary"] as? String, "\(record)")
        #expect(summaryText.contains("at 32 px") && summaryText.contains("train \(n) ("), "n \(n) vs the run's data: \(summaryText)")

        let network = try cli.run(["influence", "--checkpoint", "run/model.safetensors", "--channels", "8,8", "--out", "x"], in: folder)
        expectCleanFailure(network, mentioning: ["--channels", "the checkpoint's"])
    }

    /// `influence --check` uses --image-size, --phantom-count, --epochs, --lr, --seed and --threads, and refuses the
    /// data and training options it does not use, naming them (it ignored them all).
    @Test func influenceCheckHonoursOrRefusesTheOptions() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("influence-check")
        defer { try? FileManager.default.removeItem(at: folder) }
        let refused = try cli.run(["influence", "--check", "--noise", "rician", "--alpha", "3"], in: folder)
        expectCleanFailure(refused, mentioning: ["--check", "data.noise", "training.isr.alpha", "--checkpoint"])
        let small = try cli.run(["influence", "--check", "--image-size", "32", "--phantom-count", "80", "--epochs", "1",
                                 "--threads", "1", "--json"], in: folder)
        try #require(small.status == 0, "\(small.transcript)")
        let n = try #require(jsonObject(small.output)?["n"] as? Int, "\(small.transcript)")
        #expect(n < 80, "the check trained on \(n) points, not on the 80 phantoms asked for")
        // --bench takes --threads only (its size is --bench-image-size).
        let bench = try cli.run(["influence", "--bench", "--image-size", "64"], in: folder)
        expectCleanFailure(bench, mentioning: ["--bench", "data.imageSize = 64", "--bench-image-size"])
    }

    /// train --resume with other settings names each one with both values, including data settings the checkpoint
    /// does not hold (a changed --noise resumed silently), and leaves config.json as it was.
    @Test func aRefusedResumeNamesEachDifferingSetting() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("resume-differs")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainTinyRun(cli, in: folder)
        let config = folder.appendingPathComponent("run/config.json")
        let before = try Data(contentsOf: config)
        let resumed = try cli.run(["train"] + tinyRun + ["--epochs", "1", "--seed", "3", "--noise", "gaussian", "--lr", "0.001",
                                                         "--resume", "--out", "run"], in: folder)
        expectCleanFailure(resumed, mentioning: ["cannot resume run", "data.noise.kind", "ricianAuthors", "gaussian",
                                                 "training.learningRate: stored 0.01, now 0.001"])
        #expect(try Data(contentsOf: config) == before, "the refused resume rewrote config.json")
    }

    /// train --resume without a checkpoint in --out says so and starts from epoch 1 (it started afresh without a word, so
    /// a mistyped --out went unnoticed); on a finished run whose checkpoint is gone it refuses instead of overwriting it.
    @Test func resumeWithoutACheckpointSaysSoAndStartsFromEpochOne() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("resume-nothing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fresh = try cli.run(["train"] + tinyRun + ["--epochs", "1", "--resume", "--out", "run"], in: folder)
        try #require(fresh.status == 0, "\(fresh.transcript)")
        #expect(fresh.error.contains("no checkpoint found at run/checkpoint.safetensors: nothing to resume, so training starts from epoch 1"),
                "\(fresh.transcript)")
        let record = try JSONCoding.decoder.decode(RunRecord.self, from: Data(contentsOf: folder.appendingPathComponent("run/result.json")))
        #expect(record.resumedAfterEpoch == nil && record.epochs.count == 1)

        try FileManager.default.removeItem(at: folder.appendingPathComponent("run/checkpoint.safetensors"))
        let finished = try cli.run(["train"] + tinyRun + ["--epochs", "1", "--resume", "--out", "run"], in: folder)
        expectCleanFailure(finished, mentioning: ["run holds a finished run (result.json) but no checkpoint.safetensors", "another --out"])
        let again = try cli.run(["train"] + tinyRun + ["--epochs", "1", "--out", "run"], in: folder)
        expectCleanFailure(again, mentioning: ["run already holds a run"])
        let help = try cli.run(["train", "--help"], in: folder)
        let helpText = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(helpText.contains("it says so and starts from epoch 1"), "\(help.transcript)")
    }

    /// Files of a run other than its model (the resume checkpoint, a grid run's artifacts) are refused by predict
    /// and evaluate with the model file to use (predict ran on the checkpoint's raw weights without a word), and a
    /// model given as --denoiser is named as one.
    @Test func otherFilesOfARunAreRefusedNamingTheModel() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("not-a-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainTinyRun(cli, in: folder)
        let dataset = try PhantomGenerator(PhantomConfiguration(count: 6, patients: 6, imageSize: 32, seed: 9)).generate()
        try PNGImage.encode(unitGray: Array(dataset.images.scalars[0..<(32 * 32)]), width: 32, height: 32)
            .writePNG(path: folder.appendingPathComponent("slice.png").path)
        let predicted = try cli.run(["predict", "--checkpoint", "run/checkpoint.safetensors", "slice.png"], in: folder)
        expectCleanFailure(predicted, mentioning: ["resume checkpoint", "run/model.safetensors"])
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/checkpoint.safetensors"], in: folder)
        expectCleanFailure(evaluated, mentioning: ["resume checkpoint", "run/model.safetensors"])
        // The other way round: a model given as the denoiser (it failed on a missing U-Net tensor).
        let denoiser = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--denoiser", "run/model.safetensors", "slice.png"],
                                   in: folder)
        expectCleanFailure(denoiser, mentioning: ["is a classifier model, not a Noise2Void denoiser", "denoiser.safetensors"])

        let grid = try cli.run(["compare", "--methods", "naive", "--noises", "gaussian", "--seeds", "1"] + tinyRun
                               + ["--epochs", "1", "--out", "g"], in: folder)
        try #require(grid.status == 0, "\(grid.transcript)")
        let artifacts = try cli.run(["evaluate", "--checkpoint", "g/runs/naive-gaussian-seed1/artifacts.safetensors"], in: folder)
        expectCleanFailure(artifacts, mentioning: ["figure artifacts", "g/runs/naive-gaussian-seed1/model.safetensors"])

        // compare --status with --out alone reports the grid planned in plan.json (1 run), not the quick preset's 30.
        let status = try cli.run(["compare", "--status", "--out", "g"], in: folder)
        try #require(status.status == 0, "\(status.transcript)")
        #expect(status.output.hasPrefix("done 1, running 0, queued 0, failed 0, missing 0 (of 1 runs"), "\(status.transcript)")
        #expect(status.output.contains("plan.json: 1 runs (methods naive; noises gaussian; seeds 1)"), "\(status.transcript)")
        let other = try cli.run(["compare", "--status", "--seeds", "1", "2", "--out", "g"], in: folder)
        #expect(other.status == 0 && other.error.contains("the options select methods, noises or seeds other than the plan's"),
                "\(other.transcript)")
        // --report-only likewise rebuilds the report of the planned grid (it reported 0 of the quick preset's 30 runs).
        let report = try cli.run(["compare", "--report-only", "--out", "g"], in: folder)
        #expect(report.status == 0 && report.output.contains("1 of 1 runs finished"), "\(report.transcript)")
        // A selection that names some dimensions keeps the plan's others (--noises alone had taken the preset's methods
        // and seeds: "1 of 15 runs finished", and its five methods in the report).
        let subset = try cli.run(["compare", "--report-only", "--noises", "gaussian", "--out", "g"], in: folder)
        #expect(subset.status == 0 && subset.output.contains("1 of 1 runs finished"), "\(subset.transcript)")
        let nothing = try cli.run(["compare", "--status", "--out", "nothing"], in: folder)
        expectCleanFailure(nothing, mentioning: ["plan.json", "does not exist"])
    }
}
