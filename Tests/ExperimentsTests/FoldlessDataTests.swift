import Foundation
import Testing
@testable import Experiments

/// Data without folds (class folders without Training/Testing, as a researcher's own scans often come): the test
/// set is a seeded, class-stratified held-out share, and a --test-fold it cannot have is a clear error.
@Suite(.serialized) struct FoldlessDataTests {
    /// ScanCLITests' DICOM phantoms with Training/ and Testing/ merged into plain class folders.
    static func makeFoldlessScans(_ root: URL) throws {
        let staged = root.appendingPathComponent("staged")
        try ScanCLITests.makeScans(staged)
        let manager = FileManager.default
        for split in ["Training", "Testing"] {
            for name in try manager.contentsOfDirectory(atPath: staged.appendingPathComponent(split).path) {
                let target = root.appendingPathComponent("scans").appendingPathComponent(name)
                try manager.createDirectory(at: target, withIntermediateDirectories: true)
                let source = staged.appendingPathComponent(split).appendingPathComponent(name)
                for file in try manager.contentsOfDirectory(atPath: source.path) {
                    try manager.moveItem(at: source.appendingPathComponent(file), to: target.appendingPathComponent(file))
                }
            }
        }
        try manager.removeItem(at: staged)
    }

    @Test func classFoldersWithoutFoldsTrainOnAHeldOutShare() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("foldless")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeFoldlessScans(folder)
        let common = ["train", "--data", "scans", "--epochs", "1", "--image-size", "32", "--model", "same3x3", "--channels", "4,8",
                      "--threads", "1", "--noise", "none", "--no-cache", "--validation-fraction", "0.3"]
        // 18 images, 6 a class: a third held out is 2 a class.
        let trained = try cli.run(common + ["--test-fraction", "0.34", "--out", "run"], in: folder)
        try #require(trained.status == 0, "\(trained.transcript)")
        #expect(trained.transcript.contains("test set (0.34 held out; the data has no folds): 6 (meningioma 2, glioma 2, pituitary 2)"),
                "\(trained.transcript)")
        let settings = try JSONCoding.decoder.decode(RunSettings.self, from: Data(contentsOf: folder.appendingPathComponent("run/config.json")))
        #expect(settings.data.testFraction == 0.34 && settings.data.testFold == nil)
        // evaluate, with the run's data options, draws the same held-out set.
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--data", "scans", "--image-size", "32",
                                     "--noise", "none", "--no-cache", "--validation-fraction", "0.3", "--test-fraction", "0.34",
                                     "--threads", "1"], in: folder)
        #expect(evaluated.status == 0 && evaluated.output.contains("(held-out test set, 32 px)")
                && evaluated.output.contains("6 images"), "\(evaluated.transcript)")

        // From another folder, with the model alone: the run's relative --data is found from the folder above the
        // run (it had said "No such file or folder: scans" and asked for --data), the same held-out set is drawn.
        let elsewhere = folder.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let fromElsewhere = try cli.run(["evaluate", "--checkpoint", "../run/model.safetensors", "--threads", "1"], in: elsewhere)
        #expect(fromElsewhere.status == 0 && fromElsewhere.output.contains("6 images")
                && fromElsewhere.error.contains("the run's --data scans is relative to the folder it was trained from: found it at \(folder.appendingPathComponent("scans").standardizedFileURL.path)"),
                "\(fromElsewhere.transcript)")

        let fold = try cli.run(common + ["--test-fold", "2", "--out", "bad"], in: folder)
        expectCleanFailure(fold, mentioning: ["--test-fold 2", "the data has no folds", "--test-fraction"])
        let fraction = try cli.run(common + ["--test-fraction", "1", "--out", "bad"], in: folder)
        expectCleanFailure(fraction, mentioning: ["--test-fraction must be strictly between 0 and 1"])
    }
}
