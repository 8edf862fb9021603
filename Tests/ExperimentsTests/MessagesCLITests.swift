import Foundation
import Testing

/// Messages newcomers met that named the wrong thing: an internal setting instead of the option, an option the
/// command does not have, corruption where the file was simply not an image, one fix where two exist; and the
/// silences: no word when a model of phantoms meets real images, options in --help that do nothing.
@Suite(.serialized) struct MessagesCLITests {
    @Test func aRunsJSONFileGivenAsTheModelNamesTheModelFile() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("json-as-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        try RunFilesCLITests.trainTinyRun(cli, in: folder)
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/config.json"], in: folder)
        expectCleanFailure(evaluated, mentioning: ["run/config.json is a run's JSON settings (config.json)", "pass run/model.safetensors"])
        #expect(!evaluated.error.contains("header length"), "\(evaluated.transcript)")
        let predicted = try cli.run(["predict", "--checkpoint", "run/result.json", "x.png"], in: folder)
        expectCleanFailure(predicted, mentioning: ["JSON record (result.json)", "run/model.safetensors"])
    }

    /// Resuming a finished run with more epochs is refused with the reason (the schedule and T follow from --epochs)
    /// and the way to a longer run; the message had only listed the differing settings.
    @Test func aLongerRunIsNotAResumption() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("longer")
        defer { try? FileManager.default.removeItem(at: folder) }
        try RunFilesCLITests.trainTinyRun(cli, in: folder)
        let longer = try cli.run(["train"] + tinyRun + ["--epochs", "2", "--seed", "3", "--noise", "rician", "--out", "run", "--resume"], in: folder)
        expectCleanFailure(longer, mentioning: ["training.epochs: stored 1, now 2", "a run's --epochs cannot change when it resumes",
                                                "belong to a 1-epoch run", "train anew into another --out directory"])
    }

    /// A file that is no image (a README) is not called corrupt, and the formats named include NIfTI; a model of
    /// phantoms warns when it meets image files or real data.
    @Test func aFileThatIsNoImageNamesTheFormatsAndAPhantomModelWarns() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("not-an-image")
        defer { try? FileManager.default.removeItem(at: folder) }
        try RunFilesCLITests.trainTinyRun(cli, in: folder)
        try Data("# notes\n".utf8).write(to: folder.appendingPathComponent("README.md"))
        let predicted = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "README.md"], in: folder)
        expectCleanFailure(predicted, mentioning: ["README.md", "not an image file this tool reads", "DICOM", "NIfTI"])
        #expect(!predicted.error.contains("corrupt"), "\(predicted.transcript)")
        #expect(predicted.error.contains("warning: run/model.safetensors was trained on synthetic phantoms"), "\(predicted.transcript)")

        try FieldCaseCLITests.makeClassFolders(folder.appendingPathComponent("data"))
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--data", "data", "--test-fold", "2",
                                     "--skip-unreadable", "--no-cache", "--noise", "none"], in: folder)
        try #require(evaluated.status == 0, "\(evaluated.transcript)")
        #expect(evaluated.error.contains("was trained on synthetic phantoms") && evaluated.error.contains("the images of data"),
                "\(evaluated.transcript)")
        let phantoms = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors"], in: folder)
        #expect(phantoms.status == 0 && !phantoms.error.contains("was trained on synthetic phantoms"), "\(phantoms.transcript)")
    }

    @Test func configurationErrorsNameTheOptionsAndEveryFix() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("messages")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [([String], [String], [String])] = [
            (["train", "--phantom-count", "5"], ["--phantom-count must be at least 25 (got 5)"], ["phantom.folds"]),
            (["train", "--phantom-difficulty", "2"], ["--phantom-difficulty must be in [0, 1]"], ["phantom.difficulty"]),
            (["train", "--noise", "gausian"], ["--noise: 'gausian' is not one of", "did you mean 'gaussian'?"], ["--noises"]),
            (["compare", "--methods", "isrr"], ["did you mean 'isr'?"], []),
            (["train", "--method", "isr", "--epochs", "1"], ["ISR needs at least 2 epochs", "raise --epochs"], ["lower --switch-epoch"]),
            (["train", "--method", "isp", "--epochs", "4", "--switch-epoch", "4"],
             ["ISP's switch epoch T (4) must be below --epochs (4)", "lower --switch-epoch to 3 or less, or raise --epochs above 4"], []),
        ]
        for (arguments, words, absent) in cases {
            let result = try cli.run(arguments + ["--out", "t"], in: folder)
            expectCleanFailure(result, mentioning: words)
            for word in absent { #expect(!result.error.contains(word), "\(arguments) still says \(word)\n\(result.transcript)") }
        }
    }

    /// denoise --help shows the options denoise uses, and none of the classifier's (recipe, ISR/ISP, AT) it ignored.
    @Test func denoiseShowsOnlyTheOptionsItUses() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("denoise-help")
        defer { try? FileManager.default.removeItem(at: folder) }
        let help = try cli.run(["denoise", "--help"], in: folder)
        try #require(help.status == 0, "\(help.transcript)")
        for used in ["--n2v-epochs", "--n2v-patches", "--seed", "--threads", "--noise", "--image-size", "--denoiser"] {
            #expect(help.output.contains(used), "denoise --help lacks \(used)")
        }
        for unused in ["--recipe", "--lr-schedule", "--weight-average", "--alpha", "--switch-epoch", "--at-epsilon", "--lissa-scale", "--epochs"] {
            #expect(!help.output.contains(unused + " "), "denoise --help shows \(unused), which it does not use")
        }
        let refused = try cli.run(["denoise", "--recipe", "paper", "--out", "t"], in: folder)
        expectCleanFailure(refused, mentioning: ["--recipe"])
    }
}
