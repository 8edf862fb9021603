import Experiments
import Foundation
import MRIData
import Testing

/// The built `robust-mri` executable, run as a user runs it: exit status, standard output and error.
/// Found beside the test bundle (the same build configuration), else under `.build/{release,debug}`
/// of this package, else at `$ROBUST_MRI_BINARY`. Tests skip (with the places looked at) when absent.
struct CLI {
    let executable: URL

    struct Result {
        var status: Int32
        var output: String
        var error: String
        /// Both streams, for messages in failed expectations.
        var transcript: String { "exit \(status)\n--- stdout\n\(output)\n--- stderr\n\(error)" }
    }

    static let candidates: [URL] = {
        var urls: [URL] = []
        if let path = ProcessInfo.processInfo.environment["ROBUST_MRI_BINARY"] { urls.append(URL(fileURLWithPath: path)) }
        // On Linux the test runner is .build/<triple>/<config>/<Package>PackageTests.xctest: the tool is its sibling.
        let bundle = Bundle.main.bundleURL
        urls.append(bundle.appendingPathComponent("robust-mri"))
        urls.append(bundle.deletingLastPathComponent().appendingPathComponent("robust-mri"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #if DEBUG
        let configurations = ["debug", "release"]
        #else
        let configurations = ["release", "debug"]
        #endif
        for configuration in configurations {
            urls.append(root.appendingPathComponent(".build/\(configuration)/robust-mri"))
        }
        return urls
    }()

    static let shared: CLI? = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }.map(CLI.init)

    static var missingMessage: String {
        "robust-mri executable not found (looked at \(candidates.map(\.path).joined(separator: ", "))): build it with `swift build` first"
    }

    /// Starts the tool with `arguments`, its output going to files in `directory`.
    func start(_ arguments: [String], in directory: URL) throws -> (process: Process, output: URL, error: URL) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let stamp = UUID().uuidString
        let output = directory.appendingPathComponent("stdout-\(stamp).txt"), error = directory.appendingPathComponent("stderr-\(stamp).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: error.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: error)
        try process.run()
        return (process, output, error)
    }

    /// Runs the tool to its end.
    func run(_ arguments: [String], in directory: URL) throws -> Result {
        let (process, output, error) = try start(arguments, in: directory)
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      output: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                      error: (try? String(contentsOf: error, encoding: .utf8)) ?? "")
    }
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("robust-mri-cli-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A failure message must name the problem, and a user must not see a crash.
func expectCleanFailure(_ result: CLI.Result, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "expected a failure\n\(result.transcript)", sourceLocation: sourceLocation)
    #expect(result.status < 128, "killed by a signal (crash)\n\(result.transcript)", sourceLocation: sourceLocation)
    for word in words {
        #expect(result.error.contains(word), "stderr should mention '\(word)'\n\(result.transcript)", sourceLocation: sourceLocation)
    }
    for crash in ["Fatal error", "Stack dump", "backtrace", "Current stack trace"] {
        #expect(!result.error.contains(crash), "crash output on stderr\n\(result.transcript)", sourceLocation: sourceLocation)
    }
}

func jsonObject(_ text: String) -> [String: Any]? {
    let line = text.split(separator: "\n").last.map(String.init) ?? ""
    return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
}

/// The tiny phantom setting every CLI test trains on (a second or two in release).
let tinyRun = ["--image-size", "32", "--model", "same3x3", "--channels", "4,8", "--phantom-count", "60", "--threads", "1"]

@Suite(.serialized) struct CLITests {
    @Test func everySubcommandHasHelp() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("help")
        defer { try? FileManager.default.removeItem(at: folder) }
        for command in [[], ["train"], ["evaluate"], ["predict"], ["bench"]] {
            let result = try cli.run(command + ["--help"], in: folder)
            #expect(result.status == 0, "\(command) --help\n\(result.transcript)")
            #expect(result.output.contains("USAGE"), "\(command) --help\n\(result.transcript)")
        }
    }

    /// train writes its files and JSON; a second train into the same folder is refused; evaluate and
    /// predict read the saved model, and evaluate reproduces the run's own test accuracies.
    @Test func trainEvaluatePredict() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["train"] + tinyRun + ["--epochs", "2", "--seed", "3", "--test-noise-fraction", "0", "1", "--phantom-difficulty", "0.2",
                                               "--json", "--out", "run"]
        let trained = try cli.run(arguments, in: folder)
        try #require(trained.status == 0, "\(trained.transcript)")
        let summary = try #require(jsonObject(trained.output), "stdout is not one JSON object\n\(trained.transcript)")
        for key in ["test_accuracy", "val_accuracy", "epochs", "train_seconds", "test_accuracy_by_rho"] {
            #expect(summary[key] != nil, "missing \(key) in \(trained.output)")
        }
        #expect(summary["epochs"] as? Int == 2)
        let run = folder.appendingPathComponent("run")
        for file in ["config.json", "metrics.jsonl", "model.safetensors", "result.json"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "no \(file)")
        }
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 2)

        let again = try cli.run(arguments, in: folder)
        expectCleanFailure(again, mentioning: ["already holds a run", "--resume"])

        // evaluate, with the run's seed and noise: the same test accuracies as the run reported.
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--phantom-count", "60", "--seed", "3", "--threads", "1",
                                     "--test-noise-fraction", "0", "1", "--json"], in: folder)
        try #require(evaluated.status == 0, "\(evaluated.transcript)")
        let report = try #require(jsonObject(evaluated.output), "\(evaluated.transcript)")
        let results = try #require(report["results"] as? [[String: Any]])
        let byRho = try #require(summary["test_accuracy_by_rho"] as? [String: Double])
        #expect(results.count == 2)
        for row in results {
            let rho = try #require(row["rho"] as? Double)
            let accuracy = try #require(row["accuracy"] as? Double)
            #expect(byRho[String(format: "%g", rho)] == accuracy, "rho \(rho): evaluate \(accuracy), train \(byRho)")
            let confusion = try #require(row["confusion"] as? [[Int]])
            #expect(confusion.count == 3 && confusion.allSatisfy { $0.count == 3 })
            #expect(confusion.joined().reduce(0, +) == row["images"] as? Int)
        }
        // With the checkpoint alone, the data settings (phantoms of difficulty 0.2, noise, fractions) and the seed come
        // from the run's config.json: the same accuracies again (a newcomer's evaluate used train's default phantoms).
        let bare = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--threads", "1", "--json"], in: folder)
        try #require(bare.status == 0, "\(bare.transcript)")
        let bareResults = try #require(jsonObject(bare.output)?["results"] as? [[String: Any]], "\(bare.transcript)")
        #expect(bareResults.count == 2)
        for row in bareResults {
            let rho = try #require(row["rho"] as? Double)
            #expect(byRho[String(format: "%g", rho)] == row["accuracy"] as? Double, "rho \(rho): evaluate \(row), train \(byRho)")
        }
        let table = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--phantom-count", "60", "--split", "all"], in: folder)
        #expect(table.status == 0, "\(table.transcript)")
        for word in ["accuracy", "macro-F1", "recall", "precision", "meningioma", "true \\ predicted"] {
            #expect(table.output.contains(word), "evaluate table lacks '\(word)'\n\(table.transcript)")
        }
        let wrongSize = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--image-size", "64"], in: folder)
        expectCleanFailure(wrongSize, mentioning: ["--image-size 32"])

        // predict: phantom slices written as PNG (at another size, so resizing is exercised).
        let dataset = try PhantomGenerator(PhantomConfiguration(count: 6, patients: 6, imageSize: 48, seed: 9)).generate()
        var files: [String] = []
        for i in 0..<3 {
            let pixels = Array(dataset.images.scalars[(i * 48 * 48)..<((i + 1) * 48 * 48)])
            let name = "slice\(i).png"
            try PNGImage.encode(unitGray: pixels, width: 48, height: 48).writePNG(path: folder.appendingPathComponent(name).path)
            files.append(name)
        }
        let predicted = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--json"] + files, in: folder)
        try #require(predicted.status == 0, "\(predicted.transcript)")
        let lines = predicted.output.split(separator: "\n")
        #expect(lines.count == files.count, "\(predicted.transcript)")
        for (line, file) in zip(lines, files) {
            let object = try #require(jsonObject(String(line)))
            #expect(object["file"] as? String == file)
            let p = try #require(object["probabilities"] as? [String: Double])
            #expect(Set(p.keys) == ["meningioma", "glioma", "pituitary"])
            #expect(abs(p.values.reduce(0, +) - 1) < 1e-6)
            let best = p.max { $0.value < $1.value }?.key
            #expect(object["predicted"] as? String == best)
        }
        let tableOutput = try cli.run(["predict", "--checkpoint", "run/model.safetensors"] + files, in: folder)
        #expect(tableOutput.status == 0 && tableOutput.output.contains("p(glioma)"), "\(tableOutput.transcript)")

        try Data("not an image".utf8).write(to: folder.appendingPathComponent("broken.jpg"))
        let broken = try cli.run(["predict", "--checkpoint", "run/model.safetensors", files[0], "broken.jpg"], in: folder)
        expectCleanFailure(broken, mentioning: ["broken.jpg"])
        let missing = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "missing.png"], in: folder)
        expectCleanFailure(missing, mentioning: ["No such image file: missing.png"])
        let skipping = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--skip-unreadable", "--json", files[0], "broken.jpg"], in: folder)
        #expect(skipping.status == 0 && skipping.output.split(separator: "\n").count == 1 && skipping.error.contains("broken.jpg"),
                "\(skipping.transcript)")
        #expect(skipping.error.contains("predicted 1 of 2 images; 1 skipped"), "\(skipping.transcript)")
        // Every file unreadable: a failure that says nothing was predicted, after naming each file.
        let allBad = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--skip-unreadable", "broken.jpg", "missing.png"], in: folder)
        expectCleanFailure(allBad, mentioning: ["broken.jpg", "missing.png", "no image could be read (2 of 2 skipped)"])
    }

    /// An n2v run saves its denoiser beside its model; evaluate and predict apply it, so evaluate
    /// reproduces the run's own (denoised) test accuracies; --no-denoiser classifies the raw images.
    @Test func n2vRunIsEvaluatedThroughItsDenoiser() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("n2v")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trained = try cli.run(["train", "--method", "n2v"] + tinyRun + ["--epochs", "2", "--seed", "4", "--n2v-epochs", "1",
                                   "--n2v-patches", "16", "--n2v-patch-size", "16", "--n2v-batch-size", "8",
                                   "--test-noise-fraction", "0", "1", "--json", "--out", "run"], in: folder)
        try #require(trained.status == 0, "\(trained.transcript)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/denoiser.safetensors").path))
        let byRho = try #require(jsonObject(trained.output)?["test_accuracy_by_rho"] as? [String: Double], "\(trained.transcript)")

        let evaluate = ["evaluate", "--checkpoint", "run/model.safetensors", "--phantom-count", "60", "--seed", "4", "--threads", "1",
                        "--test-noise-fraction", "0", "1", "--json"]
        let evaluated = try cli.run(evaluate, in: folder)
        try #require(evaluated.status == 0, "\(evaluated.transcript)")
        let report = try #require(jsonObject(evaluated.output), "\(evaluated.transcript)")
        #expect((report["denoiser"] as? String)?.hasSuffix("denoiser.safetensors") == true, "\(evaluated.output)")
        for row in try #require(report["results"] as? [[String: Any]]) {
            let rho = try #require(row["rho"] as? Double)
            #expect(byRho[String(format: "%g", rho)] == row["accuracy"] as? Double, "rho \(rho): evaluate \(row), train \(byRho)")
        }
        let raw = try cli.run(evaluate + ["--no-denoiser"], in: folder)
        try #require(raw.status == 0, "\(raw.transcript)")
        #expect(jsonObject(raw.output)?["denoiser"] == nil || jsonObject(raw.output)?["denoiser"] is NSNull, "\(raw.output)")

        // The model copied away from its denoiser: evaluate and predict stop and say what to pass, instead of
        // classifying raw images with a model trained on denoised ones (a newcomer's predict gave p 1.00 for 0.41).
        let lone = folder.appendingPathComponent("lone")
        try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("run/model.safetensors"),
                                         to: lone.appendingPathComponent("model.safetensors"))
        expectCleanFailure(try cli.run(["evaluate", "--checkpoint", "lone/model.safetensors", "--phantom-count", "60"], in: folder),
                           mentioning: ["n2v run's model", "--denoiser", "--no-denoiser"])
        let loneRaw = try cli.run(["evaluate", "--checkpoint", "lone/model.safetensors", "--phantom-count", "60", "--no-denoiser"], in: folder)
        #expect(loneRaw.status == 0, "\(loneRaw.transcript)")

        // predict: the denoiser changes what the model sees, hence its probabilities.
        let dataset = try PhantomGenerator(PhantomConfiguration(count: 6, patients: 6, imageSize: 32, seed: 5)).generate()
        let file = "slice.png"
        try PNGImage.encode(unitGray: Array(dataset.images.scalars[0..<(32 * 32)]), width: 32, height: 32)
            .writePNG(path: folder.appendingPathComponent(file).path)
        let denoised = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--json", file], in: folder)
        let plain = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--json", "--no-denoiser", file], in: folder)
        try #require(denoised.status == 0 && plain.status == 0, "\(denoised.transcript)\n\(plain.transcript)")
        #expect(denoised.error.contains("denoiser.safetensors"), "\(denoised.transcript)")
        let p1 = try #require(jsonObject(denoised.output)?["probabilities"] as? [String: Double])
        let p2 = try #require(jsonObject(plain.output)?["probabilities"] as? [String: Double])
        #expect(p1 != p2, "the denoiser was not applied: \(p1) == \(p2)")

        try Data("garbage".utf8).write(to: folder.appendingPathComponent("bad.safetensors"))
        expectCleanFailure(try cli.run(["predict", "--checkpoint", "lone/model.safetensors", file], in: folder),
                           mentioning: ["n2v run's model", "--denoiser", "--no-denoiser"])
        expectCleanFailure(try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--denoiser", "bad.safetensors", file], in: folder),
                           mentioning: ["bad.safetensors"])
        expectCleanFailure(try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--denoiser", "x.safetensors", "--no-denoiser", file], in: folder),
                           mentioning: ["--no-denoiser"])

        // influence scores the model on what it was trained on: the denoised images (summary.json names the denoiser),
        // and the scores differ from the raw images'; the model alone stops and says what to pass.
        let influence = ["influence", "--checkpoint", "run/model.safetensors", "--lissa-scale", "auto", "--json"]
        let ranked = try cli.run(influence + ["--out", "ranked"], in: folder)
        let rankedRaw = try cli.run(influence + ["--out", "ranked-raw", "--no-denoiser"], in: folder)
        try #require(ranked.status == 0 && rankedRaw.status == 0, "\(ranked.transcript)\n\(rankedRaw.transcript)")
        #expect((jsonObject(ranked.output)?["denoiser"] as? String)?.hasSuffix("denoiser.safetensors") == true, "\(ranked.output)")
        #expect(jsonObject(rankedRaw.output)?["denoiser"] == nil || jsonObject(rankedRaw.output)?["denoiser"] is NSNull, "\(rankedRaw.output)")
        let scores = try String(contentsOf: folder.appendingPathComponent("ranked/influence.csv"), encoding: .utf8)
        let rawScores = try String(contentsOf: folder.appendingPathComponent("ranked-raw/influence.csv"), encoding: .utf8)
        #expect(scores != rawScores, "the denoiser was not applied before scoring")
        expectCleanFailure(try cli.run(["influence", "--checkpoint", "lone/model.safetensors", "--lissa-scale", "auto"], in: folder),
                           mentioning: ["n2v run's model", "--denoiser", "--no-denoiser"])
        expectCleanFailure(try cli.run(["influence", "--check", "--no-denoiser"], in: folder), mentioning: ["--no-denoiser"])
    }

    /// Bad input: a message naming the problem, a non-zero exit, no crash.
    @Test func badInputFailsCleanly() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("errors")
        defer { try? FileManager.default.removeItem(at: folder) }
        expectCleanFailure(try cli.run(["train", "--data", "no-such-folder", "--out", "a"], in: folder), mentioning: ["no-such-folder"])
        expectCleanFailure(try cli.run(["train", "--noise", "purple", "--out", "b"], in: folder), mentioning: ["purple", "--noise"])
        var corrupt = Data([200, 0, 0, 0, 0, 0, 0, 0])
        corrupt.append(Data("{\"weight\": broken".utf8))
        try corrupt.write(to: folder.appendingPathComponent("corrupt.safetensors"))
        expectCleanFailure(try cli.run(["evaluate", "--checkpoint", "corrupt.safetensors"], in: folder), mentioning: ["corrupt.safetensors"])
        expectCleanFailure(try cli.run(["evaluate", "--checkpoint", "absent.safetensors"], in: folder), mentioning: ["absent.safetensors"])
        expectCleanFailure(try cli.run(["predict", "--checkpoint", "corrupt.safetensors", "x.png"], in: folder), mentioning: ["corrupt.safetensors"])
        // A learning rate that makes the loss overflow: the trainer's divergence message, no crash.
        let diverged = try cli.run(["train"] + tinyRun + ["--epochs", "2", "--lr", "1e30", "--out", "c"], in: folder)
        expectCleanFailure(diverged, mentioning: ["diverged", "--lr"])
        // An attack radius outside the [0, 1] pixel scale (field case 09): a usage error (exit 64) naming the range.
        let radius = try cli.run(["train", "--method", "at", "--at-epsilon", "2"] + tinyRun + ["--epochs", "1", "--out", "d"], in: folder)
        expectCleanFailure(radius, mentioning: ["--at-epsilon", "(0, 1]"])
        #expect(radius.status == 64)
    }

    /// A run killed mid-way and resumed ends with the same epochs and accuracies as an uninterrupted one.
    @Test func resumeAfterKillMatchesUninterruptedRun() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("resume")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Slow enough (a few tenths of a second per epoch in release) to be killed between epochs 2 and 4.
        let setting = ["train", "--image-size", "48", "--model", "same3x3", "--channels", "8,16", "--phantom-count", "150",
                       "--threads", "1", "--epochs", "4", "--seed", "5", "--json"]
        let reference = try cli.run(setting + ["--out", "whole"], in: folder)
        try #require(reference.status == 0, "\(reference.transcript)")

        let metrics = folder.appendingPathComponent("cut/metrics.jsonl")
        let (process, _, _) = try cli.start(setting + ["--out", "cut"], in: folder)
        var lines = 0
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            lines = ((try? String(contentsOf: metrics, encoding: .utf8)) ?? "").split(separator: "\n").count
            if lines >= 2 { break }
            usleep(5_000)
        }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try #require(killed, "the run ended (after \(lines) epochs seen) before it could be killed: make the setting slower")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("cut/result.json").path))

        let resumed = try cli.run(setting + ["--out", "cut", "--resume"], in: folder)
        try #require(resumed.status == 0, "\(resumed.transcript)")
        #expect(resumed.error.contains("resuming"), "\(resumed.transcript)")
        func record(_ run: String) throws -> RunRecord {
            try JSONCoding.decoder.decode(RunRecord.self, from: Data(contentsOf: folder.appendingPathComponent("\(run)/result.json")))
        }
        let whole = try record("whole"), cut = try record("cut")
        #expect(cut.epochs.count == 4 && whole.epochs.count == 4)
        for (a, b) in zip(whole.epochs, cut.epochs) {
            #expect(a.epoch == b.epoch)
            #expect(a.trainLoss == b.trainLoss, "epoch \(a.epoch): train loss \(a.trainLoss) vs \(b.trainLoss)")
            #expect(a.trainAccuracy == b.trainAccuracy)
            #expect(a.validation == b.validation)
            #expect(a.test == b.test, "epoch \(a.epoch): test metrics differ")
        }
        #expect(jsonObject(resumed.output)?["test_accuracy"] as? Double == jsonObject(reference.output)?["test_accuracy"] as? Double)
        // The record says it was resumed, and its wall time covers the epochs before the resume too.
        #expect(whole.resumedAfterEpoch == nil)
        let before = try #require(cut.resumedAfterEpoch)
        #expect(before >= 2 && before < 4)
        let earlier = cut.epochs.prefix(before).map(\.seconds).reduce(0, +)
        #expect(cut.totalSeconds >= earlier, "total \(cut.totalSeconds) s < \(earlier) s of epochs before the resume")
        #expect(cut.totalSeconds >= cut.trainSeconds)
    }
}
