import Foundation
import MRIData
import NN
import Testing
@testable import Experiments

/// DICOM and NIfTI through the command line: train on class folders of DICOM files with percentile
/// clipping, the mapping recorded in config.json and applied again by predict, which reads a NIfTI volume
/// slice by slice, and by evaluate.
@Suite(.serialized) struct ScanCLITests {
    /// 4 training and 2 test phantoms per class as 12-bit DICOM files (JPEG-LS), and the test ones also as
    /// a NIfTI volume of 6 slices.
    static func makeScans(_ root: URL) throws {
        let size = 32
        let dataset = try PhantomGenerator(PhantomConfiguration(count: 60, patients: 60, imageSize: size, seed: 4)).generate()
        var taken = [0, 0, 0]
        var testSlices: [Float] = []
        for i in 0..<dataset.count where taken[dataset.labels[i]] < 6 {
            let label = dataset.labels[i]
            let folder = root.appendingPathComponent(taken[label] < 4 ? "Training" : "Testing")
                .appendingPathComponent(TumourClass(rawValue: label)?.name ?? "")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let stored = dataset.images.scalars[(i * size * size)..<((i + 1) * size * size)].map { UInt16(($0 * 4000).rounded()) }
            try ScanWriter.writeDICOM(ScanWriter.DICOMSlice(width: size, height: size, stored: stored, transferSyntax: .jpegLSLossless),
                                      to: folder.appendingPathComponent("IM\(i)").path)
            if taken[label] >= 4 { testSlices += stored.map(Float.init) }
            taken[label] += 1
        }
        try ScanWriter.writeNIfTI(testSlices, width: size, height: size, slices: 6, to: root.appendingPathComponent("test.nii.gz").path)
    }

    @Test func trainOnDICOMThenPredictDICOMAndNIfTI() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("scans")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeScans(folder.appendingPathComponent("scans"))
        let trained = try cli.run(["train", "--data", "scans", "--epochs", "1", "--image-size", "32", "--model", "same3x3",
                                   "--channels", "4,8", "--threads", "1", "--noise", "none", "--no-cache", "--validation-fraction", "0.3",
                                   "--intensity-clip", "0.5", "99.5", "--out", "run"], in: folder)
        try #require(trained.status == 0, "\(trained.transcript)")
        let settings = try JSONCoding.decoder.decode(RunSettings.self, from: Data(contentsOf: folder.appendingPathComponent("run/config.json")))
        #expect(settings.data.reading == ImageReading(intensity: .percentiles(low: 0.5, high: 99.5), niftiSlices: .selected))

        let predicted = try cli.run(["predict", "--checkpoint", "run/model.safetensors", "--json", "scans/test.nii.gz",
                                     "scans/Testing/glioma/" + (try FileManager.default.contentsOfDirectory(
                                        atPath: folder.appendingPathComponent("scans/Testing/glioma").path).sorted()[0])], in: folder)
        try #require(predicted.status == 0, "\(predicted.transcript)")
        let objects = predicted.output.split(separator: "\n").compactMap { jsonObject(String($0)) }
        #expect(objects.count == 7, "\(predicted.transcript)")
        #expect(objects.prefix(6).map { $0["slice"] as? Int } == (0..<6).map { $0 })
        #expect(objects.last?["slice"] == nil)

        // The same images predicted through the library with the run's mapping give the same probabilities, up to
        // the rounding of another OpenBLAS kernel (the tool may re-execute itself with a faster one: about 1e-7).
        let model = try ModelCheckpoint.load(from: folder.appendingPathComponent("run/model.safetensors").path)
        let direct = Prediction.predict(model: model, files: [folder.appendingPathComponent("scans/test.nii.gz").path],
                                        intensity: .percentiles(low: 0.5, high: 99.5)).predictions
        let printed = objects.prefix(6).map { object in
            TumourClass.allCases.map { (object["probabilities"] as? [String: Double])?[$0.name] ?? -1 }
        }
        let largest = zip(direct.flatMap(\.probabilities), printed.flatMap { $0 }).map { abs($0 - $1) }.max() ?? 1
        #expect(direct.count == 6 && largest < 1e-5, "largest difference \(largest)")

        // evaluate maps the images as the run did (config.json), so with the run's seed and split it gives the run's
        // test accuracy; an --intensity-clip other than the run's is named as a mismatch.
        let dataArguments = ["--data", "scans", "--image-size", "32", "--noise", "none", "--no-cache", "--validation-fraction", "0.3"]
        let evaluated = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--json", "--threads", "1"] + dataArguments, in: folder)
        try #require(evaluated.status == 0, "\(evaluated.transcript)")
        let report = try #require(jsonObject(evaluated.output), "\(evaluated.transcript)")
        #expect((report["intensity"] as? String)?.hasPrefix("percentiles 0.5-99.5") == true, "\(evaluated.transcript)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run/result.json"))) as? [String: Any])
        let lastTest = ((result["epochs"] as? [[String: Any]])?.last?["test"] as? [[String: Any]])?.first
        let runAccuracy = try #require((lastTest?["evaluation"] as? [String: Any])?["accuracy"] as? Double)
        let evaluatedAccuracy = try #require(((report["results"] as? [[String: Any]])?.first?["accuracy"]) as? Double)
        #expect(abs(evaluatedAccuracy - runAccuracy) < 1e-12, "evaluate \(evaluatedAccuracy), run \(runAccuracy)")
        let mismatched = try cli.run(["evaluate", "--checkpoint", "run/model.safetensors", "--threads", "1", "--intensity-clip", "1", "99"]
                                     + dataArguments, in: folder)
        #expect(mismatched.status == 0 && mismatched.transcript.contains("but the model was trained on percentiles 0.5-99.5"),
                "\(mismatched.transcript)")

        let clip = try cli.run(["train", "--data", "scans", "--intensity-clip", "99", "1", "--out", "bad"], in: folder)
        expectCleanFailure(clip, mentioning: ["--intensity-clip", "0 <= low < high <= 100"])
    }

    /// Settings saved before the reading existed decode as the default reading.
    @Test func settingsWithoutReadingAreTheDefault() throws {
        var old = RunSettings(data: DataSettings(path: "/data"), training: .init())
        old.data.reading = nil
        let text = String(decoding: try JSONCoding.encoder.encode(old), as: UTF8.self)
        #expect(!text.contains("reading"))
        let decoded = try JSONCoding.decoder.decode(RunSettings.self, from: Data(text.utf8))
        #expect(decoded.data.reading == nil && decoded.data.imageReading == ImageReading())
    }
}
