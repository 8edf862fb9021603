import Experiments
import Foundation
import Testing

/// List-valued options take spaces, commas or both, and every one's help says so (the README mixed
/// `--seeds 1 2 3` with `--channels 16,16,32`, and each option took only its own).
@Suite(.serialized) struct ListSyntaxCLITests {
    static func settings(_ folder: URL, _ run: String) throws -> RunSettings {
        try JSONCoding.decoder.decode(RunSettings.self, from: Data(contentsOf: folder.appendingPathComponent("\(run)/config.json")))
    }

    @Test func spacesAndCommasGiveTheSameSettings() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("lists")
        defer { try? FileManager.default.removeItem(at: folder) }
        let common = ["train", "--image-size", "32", "--model", "same3x3", "--phantom-count", "60", "--threads", "1", "--epochs", "1"]
        let commas = try cli.run(common + ["--channels", "4,8", "--test-noise-fraction", "0,1", "--validation-patients", "1,1,1", "--out", "a"], in: folder)
        try #require(commas.status == 0, "\(commas.transcript)")
        let spaces = try cli.run(common + ["--channels", "4", "8", "--test-noise-fraction", "0", "1", "--validation-patients", "1", "1", "1",
                                           "--out", "b"], in: folder)
        try #require(spaces.status == 0, "\(spaces.transcript)")
        let a = try Self.settings(folder, "a"), b = try Self.settings(folder, "b")
        #expect(a == b)
        #expect(a.training.model.channels == [4, 8] && a.data.testNoiseFractions == [0, 1] && a.data.validation.patientsPerClass == [1, 1, 1])

        let grid = try cli.run(["compare", "--methods", "naive", "--noises", "gaussian", "--seeds", "1,2"] + tinyRun + ["--epochs", "1", "--out", "g"],
                               in: folder)
        try #require(grid.status == 0, "\(grid.transcript)")
        let plan = try JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(contentsOf: folder.appendingPathComponent("g/plan.json")))
        #expect(plan.seeds == [1, 2] && plan.methods == [.naive])

        let bad = try cli.run(["train", "--channels", "4,x", "--out", "c"], in: folder)
        expectCleanFailure(bad, mentioning: ["--channels", "'x'", "spaces or commas"])
        let unknown = try cli.run(["compare", "--methods", "naive,foo", "--out", "c"], in: folder)
        expectCleanFailure(unknown, mentioning: ["'foo'", "naive, isr"])
    }

    /// A value named twice is refused before anything runs: a repeated seed had counted one run as six (std 0.00 and a
    /// "worse" verdict from one seed), a repeated test-noise fraction crashed train after its last epoch; and the
    /// numbers that cannot be negative say so instead of crashing (--epochs=-1 had stopped on a range check).
    @Test func repeatedValuesAndNegativeCountsAreRefusedClearly() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("lists-repeated")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [([String], [String])] = [
            (["compare", "--seeds", "1", "2", "2", "--out", "g"], ["--seeds", "2 more than once"]),
            (["compare", "--noises", "gaussian,gaussian", "--out", "g"], ["--noises", "gaussian more than once"]),
            (["compare", "--methods", "naive", "isr", "naive", "--out", "g"], ["--methods", "naive more than once"]),
            (["train", "--test-noise-fraction", "0", "0", "1", "--out", "t"], ["--test-noise-fraction", "0 more than once"]),
            (["evaluate", "--checkpoint", "none.safetensors", "--test-noise-fraction", "1", "1"], ["--test-noise-fraction"]),
            (["train", "--epochs=-1", "--out", "t"], ["--epochs must be at least 1", "-1"]),
            (["compare", "--epochs=-1", "--out", "g"], ["--epochs must be at least 1"]),
            (["train", "--noise-level=-5", "--out", "t"], ["--noise-level must be a positive number"]),
            // A negative number after a space is the option's value too (it was "Missing value for '--epochs'").
            (["train", "--epochs", "-1", "--out", "t"], ["--epochs must be at least 1 (got -1)"]),
            (["compare", "--epochs", "-1", "--out", "g"], ["--epochs must be at least 1"]),
            (["train", "--noise-level", "-5", "--out", "t"], ["--noise-level must be a positive number"]),
            (["train", "--lr", "-0.1", "--out", "t"], ["learning rate must be positive (got -0.1)"]),
            (["train", "--test-noise-fraction", "0", "-1", "--out", "t"], ["--test-noise-fraction values must be in [0, 1]"]),
            (["compare", "--seeds", "1", "-2", "--out", "g"], ["--seeds", "'-2' is not a whole number of 0 or more"]),
        ]
        for (arguments, words) in cases {
            let result = try cli.run(arguments, in: folder)
            expectCleanFailure(result, mentioning: words)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("t").path), "\(arguments): trained anyway")
        }
    }

    @Test func everyListOptionsHelpSaysBothSeparatorsWork() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("lists-help")
        defer { try? FileManager.default.removeItem(at: folder) }
        // compare: --validation-patients, --noises, --test-noise-fraction, --intensity-clip, --channels, --seeds, --methods;
        // bench: --variants, --sizes, --threads.
        for (command, lists) in [("compare", 7), ("bench", 3)] {
            let help = try cli.run([command, "--help"], in: folder)
            let text = help.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.components(separatedBy: "separated by spaces or commas").count - 1 == lists, "\(command) --help\n\(help.output)")
        }
    }

    /// An option of one value named twice is refused, naming it, in every command (`--epochs 1 --epochs 2` trained 2
    /// epochs without a word while `--seed 1 --seed 2` was refused); a list option named again adds to its values.
    @Test func anOptionOfOneValueNamedTwiceIsRefused() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("named-twice")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [([String], [String])] = [
            (["train", "--epochs", "1", "--epochs", "2", "--out", "t"], ["--epochs is given twice ('--epochs 1', then '--epochs 2')", "give it once"]),
            (["compare", "--epochs=1", "--lr", "0.1", "--epochs", "2", "--out", "t"], ["--epochs is given twice ('--epochs=1', then '--epochs 2')"]),
            (["evaluate", "--checkpoint", "a.safetensors", "--checkpoint", "b.safetensors"], ["--checkpoint is given twice"]),
            (["predict", "--checkpoint", "a.safetensors", "--checkpoint", "b.safetensors", "x.png"], ["--checkpoint is given twice"]),
            (["influence", "--damping", "1", "--damping", "2", "--out", "t"], ["--damping is given twice"]),
            (["denoise", "--image-size", "32", "--image-size", "64", "--out", "t"], ["--image-size is given twice"]),
            (["bench", "--batch-size", "2", "--batch-size", "4"], ["--batch-size is given twice"]),
        ]
        for (arguments, words) in cases {
            let result = try cli.run(arguments, in: folder)
            expectCleanFailure(result, mentioning: words)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("t").path), "\(arguments): ran anyway")
        }
        let lists = try cli.run(["train", "--channels", "4", "--channels", "8", "--model", "same3x3", "--image-size", "32",
                                 "--phantom-count", "60", "--epochs", "1", "--threads", "1", "--out", "l"], in: folder)
        try #require(lists.status == 0, "\(lists.transcript)")
        #expect(try Self.settings(folder, "l").training.model.channels == [4, 8])
    }
}
