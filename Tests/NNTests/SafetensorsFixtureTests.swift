import Foundation
import Testing
import Tensor
import NN

/// The PyTorch fixtures made by tools/make_nn_fixture.py decode with the names, dtypes and shapes
/// the model configuration implies, and their references agree with each other.
@Suite struct SafetensorsFixtureTests {
    /// The `model_config` metadata written by tools/paper_cnn.py.
    struct ModelConfig: Codable {
        var input_size: Int
        var input_channels: Int
        var channels: [Int]
        var kernel_size: Int
        var padding: String
        var num_classes: Int

        /// Spatial size after the last block: conv (valid shrinks by k - 1, same keeps), then pool 2.
        var finalSize: Int {
            channels.reduce(input_size) { size, _ in (padding == "same" ? size : size - kernel_size + 1) / 2 }
        }
        var featureCount: Int { channels.last! * finalSize * finalSize }
    }

    static let batch = 4
    static let tolerance: Float = 1e-5

    static func fixture(_ name: String) throws -> SafetensorsFile {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"))
        return try SafetensorsFile.read(from: url.path)
    }

    @Test(arguments: [("cnn_same3x3_20px", 150), ("cnn_valid5x5_36px", 216)])
    func fixtureDecodesWithExpectedNamesShapesAndDTypes(name: String, features: Int) throws {
        let file = try Self.fixture(name)
        let config = try file.metadataJSON("model_config", as: ModelConfig.self)
        #expect(config.featureCount == features)
        let n = Self.batch, s = config.input_size, k = config.kernel_size, classes = config.num_classes

        var expected: [String: [Int]] = [:]
        var inputChannels = config.input_channels
        for (block, channels) in config.channels.enumerated() {
            let conv = "features.\(4 * block)", norm = "features.\(4 * block + 1)"
            for prefix in ["", "grad."] {
                expected[prefix + conv + ".weight"] = [channels, inputChannels, k, k]
                expected[prefix + conv + ".bias"] = [channels]
                expected[prefix + norm + ".weight"] = [channels]
                expected[prefix + norm + ".bias"] = [channels]
            }
            for prefix in ["", "after."] {
                expected[prefix + norm + ".running_mean"] = [channels]
                expected[prefix + norm + ".running_var"] = [channels]
            }
            inputChannels = channels
        }
        for prefix in ["", "grad."] {
            expected[prefix + "classifier.weight"] = [classes, features]
            expected[prefix + "classifier.bias"] = [classes]
        }
        for key in ["input", "input_grad_train", "input_grad_eval"] { expected[key] = [n, config.input_channels, s, s] }
        for key in ["logits_train", "logits_eval"] { expected[key] = [n, classes] }
        for key in ["loss_train", "loss_eval"] { expected[key] = [] }
        expected["features_eval"] = [n, features]
        for (key, shape) in expected {
            _ = try file.tensor(key, shape: shape)
        }

        // Int64 entries: labels and num_batches_tracked, before and after one training forward.
        let labels = try file.int64Values("labels", shape: [n])
        #expect(labels.allSatisfy { (0..<Int64(classes)).contains($0) })
        for block in config.channels.indices {
            let before = try file.int64Scalar("features.\(4 * block + 1).num_batches_tracked")
            #expect(try file.int64Scalar("after.features.\(4 * block + 1).num_batches_tracked") == before + 1)
        }
        let int64Count = 1 + 2 * config.channels.count
        #expect(file.count == expected.count + int64Count, "unexpected extra tensors: \(file.names)")

        // The input is an image batch in [0, 1].
        #expect(try file.tensor("input").scalars.allSatisfy { (0...1).contains($0) })
    }

    /// logits_eval = features_eval W^T + b, and the losses and the bias gradient follow from the
    /// logits: mean cross-entropy, and dL/db = mean_i (softmax(z_i) - onehot(y_i)).
    @Test(arguments: ["cnn_same3x3_20px", "cnn_valid5x5_36px"])
    func referencesAreConsistent(name: String) throws {
        let file = try Self.fixture(name)
        let h = try file.tensor("features_eval")
        let w = try file.tensor("classifier.weight"), b = try file.tensor("classifier.bias")
        let logits = try file.tensor("logits_eval")
        let labels = try file.int64Values("labels").map(Int.init)
        let (n, d, classes) = (h.shape[0], h.shape[1], w.shape[0])
        for i in 0..<n {
            for c in 0..<classes {
                var z = b.scalars[c]
                for j in 0..<d { z += h.scalars[i * d + j] * w.scalars[c * d + j] }
                #expect(abs(z - logits.scalars[i * classes + c]) < 1e-4, "logit [\(i), \(c)]")
            }
        }
        func meanCrossEntropy(_ z: Tensor) -> (loss: Float, biasGradient: [Float]) {
            var loss: Float = 0
            var gradient = [Float](repeating: 0, count: classes)
            for i in 0..<n {
                let row = Array(z.scalars[(i * classes)..<((i + 1) * classes)])
                let top = row.max() ?? 0
                let sum = row.reduce(Float(0)) { $0 + exp($1 - top) }
                loss += (log(sum) + top - row[labels[i]]) / Float(n)
                for c in 0..<classes {
                    gradient[c] += (exp(row[c] - top) / sum - (c == labels[i] ? 1 : 0)) / Float(n)
                }
            }
            return (loss, gradient)
        }
        let eval = meanCrossEntropy(logits)
        #expect(abs(eval.loss - (try file.tensor("loss_eval").scalars[0])) < Self.tolerance)
        let train = meanCrossEntropy(try file.tensor("logits_train"))
        #expect(abs(train.loss - (try file.tensor("loss_train").scalars[0])) < Self.tolerance)
        let biasGradient = try file.tensor("grad.classifier.bias").scalars
        for c in 0..<classes { #expect(abs(train.biasGradient[c] - biasGradient[c]) < Self.tolerance) }
    }

    /// Our encoder writes what PyTorch's writer wrote: decode, encode, decode is the identity.
    @Test func fixtureSurvivesOurRoundTrip() throws {
        let file = try Self.fixture("cnn_valid5x5_36px")
        var again = try SafetensorsFile.decode(file.encode(), fileName: "re-encoded")
        again.source = file.source
        #expect(again == file)
    }
}
