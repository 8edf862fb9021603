import Foundation
import NN
import Tensor
import TestSupport
import Testing
@testable import Experiments
@testable import RobustTraining

/// The seed corpora of the safetensors and settings fuzz targets (Fuzz/Corpus/{safetensors,settings}):
/// written by the package's own writers with `ROBUST_MRI_WRITE_FUZZ_CORPUS=1`, and checked to load
/// otherwise (see `FuzzCorpus`), through the readers the fuzz targets call.
@Suite struct FuzzCorpusTests {
    func temporaryFile(_ name: String) -> String { NSTemporaryDirectory() + "fuzz-\(UUID().uuidString)-\(name)" }

    @Test func safetensorsSeedsLoad() throws {
        var generator = SeededGenerator(seed: 3)
        let configuration = CNNConfiguration(imageSize: 8, channels: [2], kernelSize: 3, padding: .same)
        var checkpoint = ModelCheckpoint.file(for: try CNN(configuration: configuration, generator: &generator))
        var training = TrainingConfiguration(model: configuration, epochs: 2)
        training.recipe = .paper
        try checkpoint.setMetadataJSON(TrainingCheckpoint.configurationKey, training)
        try FuzzCorpus.offer(checkpoint.encode(), target: "safetensors", name: "cnn-checkpoint.safetensors")

        let unet = try UNet(configuration: UNetConfiguration(depth: 1, firstChannels: 2), generator: &generator)
        let denoiserPath = temporaryFile("denoiser.safetensors")
        defer { try? FileManager.default.removeItem(atPath: denoiserPath) }
        try Noise2VoidDenoiser(network: unet, mean: 0.25, standardDeviation: 0.5).save(to: denoiserPath)
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: denoiserPath))), target: "safetensors",
                             name: "denoiser.safetensors")

        let images = Tensor(shape: [2, 1, 4, 4], scalars: (0..<32).map { Float($0) / 31 })
        let artifacts = RunArtifacts(examplePositions: [0, 5], exampleLabels: [1, 2], clean: images, noisy: images,
                                     methodVersion: images, masks: nil, influenceScores: [0.5, -1, 2])
        let artifactsPath = temporaryFile("artifacts.safetensors")
        defer { try? FileManager.default.removeItem(atPath: artifactsPath) }
        try artifacts.write(to: artifactsPath)
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: artifactsPath))), target: "safetensors",
                             name: "artifacts.safetensors")

        for (name, bytes) in try FuzzCorpus.seeds("safetensors") {
            let path = temporaryFile(name)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: Never.self, "\(name)") {
                if name.contains("denoiser") {
                    _ = try Noise2VoidDenoiser.load(from: path)
                } else if name.contains("artifacts") {
                    _ = try RunArtifacts.read(from: path)
                } else {
                    _ = try ModelCheckpoint.load(from: path)
                    let file = try SafetensorsFile.decode(bytes, fileName: name)
                    try file.metadataJSON(TrainingCheckpoint.configurationKey, as: TrainingConfiguration.self).validate()
                }
            }
        }
    }

    @Test func settingsSeedsDecode() throws {
        try FuzzCorpus.offer([UInt8](try JSONCoding.encoder.encode(CompareConfiguration.quick().base)), target: "settings",
                             name: "config.json")
        var tiny = tinyGrid(methods: TrainingMethodKind.allCases)
        tiny.base.training.epochs = 4
        tiny.base.training.isr.switchEpoch = 2
        tiny.base.training.isp.switchEpoch = 2
        try FuzzCorpus.offer([UInt8](try JSONCoding.encoder.encode(tiny)),
                             target: "settings", name: "plan-tiny.json")
        try FuzzCorpus.offer([UInt8](try JSONCoding.compactEncoder.encode(CompareConfiguration.paper())), target: "settings",
                             name: "plan-paper.json")
        for (name, bytes) in try FuzzCorpus.seeds("settings") {
            #expect(throws: Never.self, "\(name)") {
                if name.hasPrefix("seed-config") {
                    try JSONCoding.decoder.decode(RunSettings.self, from: Data(bytes)).training.validate()
                } else {
                    for planned in try JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(bytes)).plan() {
                        try planned.settings.training.validate()
                    }
                }
            }
        }
    }

    /// Every input that once crashed the safetensors or settings fuzz target goes through the same readers
    /// again (errors are fine, a trap would end the test run).
    @Test func findingsNoLongerCrash() throws {
        for (name, bytes) in try FuzzCorpus.findings("safetensors") {
            let path = temporaryFile(name)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            _ = try? ModelCheckpoint.load(from: path)
            _ = try? Noise2VoidDenoiser.load(from: path)
            _ = try? RunArtifacts.read(from: path)
        }
        for (_, bytes) in try FuzzCorpus.findings("settings") {
            if let settings = try? JSONCoding.decoder.decode(RunSettings.self, from: Data(bytes)) {
                _ = try? settings.training.validate()
            }
            if let plan = try? JSONCoding.decoder.decode(CompareConfiguration.self, from: Data(bytes)) {
                for planned in plan.plan() { _ = try? planned.settings.training.validate() }
            }
        }
    }

    /// Fuzzing finding (docs/fuzzing.md): an artifacts file whose `example_positions` held NaN trapped in
    /// `Int(_:)`. Positions and labels are now checked whole numbers, a typed error naming file and tensor.
    @Test func artifactsWithNonIntegerPositionsAreATypedError() throws {
        for bad: Float in [.nan, .infinity, 2.5, -1, 1e30] {
            var file = SafetensorsFile()
            file.set("example_positions", Tensor(shape: [2], scalars: [0, bad]))
            file.set("example_labels", Tensor(shape: [2], scalars: [1, 2]))
            file.set("noisy", Tensor(shape: [2, 1, 2, 2], scalars: [Float](repeating: 0.5, count: 8)))
            file.set("method_version", Tensor(shape: [2, 1, 2, 2], scalars: [Float](repeating: 0.5, count: 8)))
            let path = temporaryFile("artifacts.safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try file.write(to: path)
            #expect(throws: CheckpointError.badValues(file: path, tensor: "example_positions",
                                                      detail: "holds \(bad), not a position or label (a whole number >= 0)")) {
                _ = try RunArtifacts.read(from: path)
            }
        }
    }
}
