import Foundation
import MRIData
import Testing

/// The user-facing side of the field cases: messages name a real option, warnings reach standard
/// error (also under --json), and configuration errors print the usage of the subcommand that ran.
@Suite(.serialized) struct FieldCaseCLITests {
    /// Class folders (2 training and 1 test image per class) with a macOS AppleDouble file beside every
    /// image and one file that is not an image at all.
    static func makeClassFolders(_ root: URL) throws {
        let dataset = try PhantomGenerator(PhantomConfiguration(count: 30, patients: 30, imageSize: 32, seed: 3)).generate()
        var taken = [0, 0, 0]
        for i in 0..<dataset.count where taken[dataset.labels[i]] < 3 {
            let label = dataset.labels[i]
            let folder = root.appendingPathComponent(taken[label] < 2 ? "Training" : "Testing")
                .appendingPathComponent(TumourClass(rawValue: label)?.name ?? "")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let pixels = Array(dataset.images.scalars[(i * 32 * 32)..<((i + 1) * 32 * 32)])
            try PNGImage.encode(unitGray: pixels, width: 32, height: 32).writePNG(path: folder.appendingPathComponent("\(i).png").path)
            try Data([0x00, 0x05, 0x16, 0x07] + [UInt8](repeating: 0, count: 4092))
                .write(to: folder.appendingPathComponent("._\(i).png"))
            taken[label] += 1
        }
        try Data("not an image".utf8).write(to: root.appendingPathComponent("Training/glioma/broken.png"))
    }

    @Test func loaderWarningsSkippedFilesAndConfigurationErrors() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("field-cases")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeClassFolders(folder.appendingPathComponent("data"))
        let train = ["train", "--data", "data", "--test-fold", "2", "--epochs", "1", "--image-size", "32", "--model", "same3x3",
                     "--channels", "4,8", "--threads", "1", "--noise", "none", "--no-cache"]

        // An unreadable image stops the load, unless --skip-unreadable leaves it out and names it.
        let stopped = try cli.run(train + ["--validation-fraction", "0.5", "--out", "stopped"], in: folder)
        expectCleanFailure(stopped, mentioning: ["broken.png", "neither a JPEG, a PNG, a DICOM nor a NIfTI"])
        // --json: one JSON object on standard output, the loader's warnings on standard error.
        let skipped = try cli.run(train + ["--validation-fraction", "0.5", "--skip-unreadable", "--json", "--out", "run"], in: folder)
        try #require(skipped.status == 0, "\(skipped.transcript)")
        #expect(jsonObject(skipped.output) != nil && skipped.output.split(separator: "\n").count == 1, "\(skipped.transcript)")
        for words in ["skipped 9 hidden or metadata file(s)", "AppleDouble", "skipped 1 unreadable file", "broken.png"] {
            #expect(skipped.error.contains(words), "stderr should mention '\(words)'\n\(skipped.transcript)")
        }

        // An empty validation split names the option that sizes it.
        let empty = try cli.run(train + ["--validation-fraction", "0.01", "--skip-unreadable", "--out", "empty"], in: folder)
        expectCleanFailure(empty, mentioning: ["--validation-fraction", "empty"])

        // A configuration error found while running: exit 64 and the subcommand's usage.
        let isr = try cli.run(["train", "--method", "isr", "--epochs", "1", "--switch-epoch", "1", "--out", "isr"], in: folder)
        expectCleanFailure(isr, mentioning: ["--switch-epoch", "Usage: robust-mri train", "See 'robust-mri train --help'"])
        #expect(isr.status == 64 && !isr.error.contains("<subcommand>"), "\(isr.transcript)")

        // Noise2Void patches too small for the U-Net: the fix is a real option.
        let n2v = try cli.run(["train", "--method", "n2v"] + tinyRun + ["--epochs", "1", "--n2v-epochs", "1", "--n2v-patches", "8",
                                                                      "--n2v-patch-size", "2", "--out", "n2v"], in: folder)
        expectCleanFailure(n2v, mentioning: ["--n2v-patch-size", "at least 4"])
        #expect(!n2v.error.contains("depth"), "\(n2v.transcript)")
    }
}
