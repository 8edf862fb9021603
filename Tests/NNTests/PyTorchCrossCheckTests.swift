import Foundation
import Testing
import NN
import Tensor
import TestSupport

/// Our CNN against PyTorch on the committed fixtures (made once by tools/make_nn_fixture.py): the
/// fixture's state_dict loads through `ModelCheckpoint`, and logits, loss, every parameter gradient, the
/// input gradient, BatchNorm's updated running statistics and the evaluation-mode outputs agree.
@Suite struct PyTorchCrossCheckTests {
    /// Relative agreement required (issue 2: 1e-4).
    static let tolerance: Float = 1e-4

    static func fixture(_ name: String) throws -> SafetensorsFile {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw CheckpointError.fileNotFound(file: "Fixtures/\(name).safetensors")
        }
        return try SafetensorsFile.read(from: url.path)
    }

    @Test(arguments: ["cnn_same3x3_20px", "cnn_valid5x5_36px"])
    func trainingAndEvaluationPassesMatchPyTorch(name: String) throws {
        let file = try Self.fixture(name)
        let original = try ModelCheckpoint.model(from: file)
        let input = try file.tensor("input")
        let labels = try file.int64Values("labels").map { Int($0) }

        // Training mode: logits, loss, parameter and input gradients, updated running statistics.
        var model = original
        let (logits, cache) = model.forward(input, mode: .training)
        #expect(relativeError(logits, try file.tensor("logits_train")) < Self.tolerance)
        let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
        let expectedLoss = try file.tensor("loss_train").scalars[0]
        #expect(abs(loss.loss - expectedLoss) <= Self.tolerance * abs(expectedLoss))
        let (gradients, inputGradient) = model.backward(dlogits: loss.dlogits, cache: cache)
        for (gradientName, gradient) in gradients.namedTensors() {
            let reference = try file.tensor("grad.\(gradientName)")
            if reference.scalars.allSatisfy({ abs($0) < 1e-6 }) {
                // A convolution bias in front of BatchNorm (training mode) has a zero gradient in exact
                // arithmetic: the batch mean removes it. Both sides hold rounding noise; compare absolutely.
                #expect(gradient.scalars.allSatisfy { abs($0) < 1e-5 }, "gradient of \(gradientName) should vanish")
            } else {
                let error = relativeError(gradient, reference)
                #expect(error < Self.tolerance, "gradient of \(gradientName): relative error \(error)")
            }
        }
        #expect(relativeError(inputGradient, try file.tensor("input_grad_train")) < Self.tolerance)
        for (bufferName, buffer) in model.namedTensors() where bufferName.contains("running") {
            #expect(relativeError(buffer, try file.tensor("after.\(bufferName)")) < Self.tolerance, "\(bufferName)")
        }
        for (counterName, value) in model.namedCounters() {
            #expect(value == (try file.int64Scalar("after.\(counterName)")))
        }

        // Evaluation mode, with the stored (not the updated) statistics.
        let (evalLogits, evalCache) = original.evaluated(input)
        #expect(relativeError(evalLogits, try file.tensor("logits_eval")) < Self.tolerance)
        #expect(relativeError(original.evaluatedFeatures(input).features, try file.tensor("features_eval")) < Self.tolerance)
        let evalLoss = SoftmaxCrossEntropy.evaluate(logits: evalLogits, labels: labels)
        let evalInputGradient = original.backward(dlogits: evalLoss.dlogits, cache: evalCache).inputGradient
        #expect(relativeError(evalInputGradient, try file.tensor("input_grad_eval")) < Self.tolerance)
    }

    @Test func aSavedModelReloadsWithIdenticalTensorsAndLogits() throws {
        let model = try ModelCheckpoint.model(from: try Self.fixture("cnn_same3x3_20px"))
        let path = NSTemporaryDirectory() + "model-\(UUID().uuidString).safetensors"
        try ModelCheckpoint.save(model, to: path)
        let reloaded = try ModelCheckpoint.load(from: path)
        #expect(reloaded.configuration == model.configuration)
        #expect(reloaded.namedTensors().map(\.tensor) == model.namedTensors().map(\.tensor))
        #expect(reloaded.namedCounters().map(\.value) == model.namedCounters().map(\.value))
        let file = try SafetensorsFile.read(from: path)
        #expect(file.metadata[ModelCheckpoint.torchConfigurationKey]?.contains("\"padding\":\"same\"") == true)
    }

    @Test func aCheckpointOfAnotherNetworkIsRefusedByName() throws {
        var file = try Self.fixture("cnn_same3x3_20px")
        file.metadata[ModelCheckpoint.torchConfigurationKey] =
            #"{"input_size": 20, "input_channels": 1, "channels": [4, 7], "kernel_size": 3, "padding": "same", "num_classes": 3, "batch_norm_eps": 1e-05, "batch_norm_momentum": 0.1}"#
        #expect { _ = try ModelCheckpoint.model(from: file) } throws: { error in
            String(describing: error).contains("features.4.weight")
        }
    }
}
