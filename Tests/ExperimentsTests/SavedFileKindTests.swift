import Foundation
import Testing
import NN
import RobustTraining
import Tensor
@testable import Experiments

/// Files of a run told apart by their metadata, so that a model command given the wrong one names the right one;
/// and a local grid's run in progress counted as started by `compare --status`.
@Suite struct SavedFileKindTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "saved-kind-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func tinyModel() throws -> CNN {
        var generator = SeededGenerator(seed: 1)
        return try CNN(configuration: CNNConfiguration(imageSize: 16, channels: [2, 4], kernelSize: 3, padding: .same),
                       generator: &generator, threads: 1)
    }

    @Test func eachFileOfARunIsToldByItsMetadata() throws {
        let model = try Self.tinyModel()
        #expect(SavedFileKind(of: ModelCheckpoint.file(for: model)) == .model)
        // A training checkpoint carries the model's metadata too.
        var checkpoint = ModelCheckpoint.file(for: model)
        checkpoint.metadata[TrainingCheckpoint.configurationKey] = "{}"
        #expect(SavedFileKind(of: checkpoint) == .trainingCheckpoint)
        var denoiser = SafetensorsFile()
        denoiser.metadata[Noise2VoidDenoiser.configurationKey] = "{}"
        #expect(SavedFileKind(of: denoiser) == .denoiser)
        let images = Tensor(shape: [1, 1, 16, 16], scalars: [Float](repeating: 0.5, count: 256))
        let artifacts = RunArtifacts(examplePositions: [0], exampleLabels: [1], clean: nil, noisy: images, methodVersion: images,
                                     masks: nil, influenceScores: nil)
        let path = try Self.folder() + "/artifacts.safetensors"
        try artifacts.write(to: path)
        let written = try SafetensorsFile.read(from: path)
        #expect(written.metadata[SavedFileKind.metadataKey] == "run-artifacts")
        #expect(SavedFileKind(of: written) == .runArtifacts)
        // Artifacts written before they recorded their kind are told by their tensors.
        var legacy = written
        legacy.metadata = [:]
        #expect(SavedFileKind(of: legacy) == .runArtifacts)
        #expect(SavedFileKind(of: SafetensorsFile(namedTensors: [("x", images)])) == .unknown)
    }

    @Test func loadingAModelRefusesAResumeCheckpointNamingTheModelBesideIt() throws {
        let folder = try Self.folder()
        var checkpoint = ModelCheckpoint.file(for: try Self.tinyModel())
        checkpoint.metadata[TrainingCheckpoint.configurationKey] = "{}"
        try checkpoint.write(to: "\(folder)/checkpoint.safetensors")
        let unfinished = #expect(throws: WrongFileError.self) { try SavedModel.load(from: "\(folder)/checkpoint.safetensors", threads: 1) }
        #expect("\(try #require(unfinished))".contains("has not finished"))
        try ModelCheckpoint.save(try Self.tinyModel(), to: "\(folder)/model.safetensors")
        let finished = #expect(throws: WrongFileError.self) { try SavedModel.load(from: "\(folder)/checkpoint.safetensors", threads: 1) }
        #expect("\(try #require(finished))".contains("pass \(folder)/model.safetensors"))
        #expect(try SavedModel.load(from: "\(folder)/model.safetensors", threads: 1).model.configuration.imageSize == 16)
        // The other way round: a model given where a denoiser is expected.
        let model = #expect(throws: WrongFileError.self) { try SavedModel.denoiser(from: "\(folder)/model.safetensors", threads: 1) }
        #expect("\(try #require(model))".contains("is a classifier model, not a Noise2Void denoiser: pass the denoiser.safetensors"))
    }

    @Test func aLocalRunWithACheckpointAndNoRecordIsStarted() throws {
        let out = try Self.folder()
        let runner = GridRunner(configuration: tinyGrid(seeds: [1, 2]), outDirectory: out)
        try runner.preparePlan()
        let ids = runner.configuration.plan().map(\.id)
        try FileManager.default.createDirectory(atPath: runner.runDirectory(ids[0]), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(runner.runDirectory(ids[0]))/checkpoint.safetensors"))
        let status = try GridStatus.read(SlurmGrid(runner: runner))
        #expect(status.entries.map(\.state) == [.started, .missing])
        #expect(status.rendered().hasPrefix("done 0, running 0, queued 0, failed 0, missing 1, started 1 (of 2 runs"), "\(status.rendered())")
    }
}
