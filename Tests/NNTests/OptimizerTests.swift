import Foundation
import NN
import Tensor
import Testing
import TestSupport

/// One tensor as a model, for optimizer tests.
struct TinyModel: Optimizable {
    var theta: Tensor
    mutating func updateParameters(with gradients: Tensor, _ update: (Int, inout Tensor, Tensor) -> Void) {
        update(0, &theta, gradients)
    }
}

@Suite struct OptimizerTests {
    /// Two Adam steps against the formula evaluated here in Double, with weight decay.
    @Test func adamFollowsTorchFormula() {
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, decay = 0.1
        var model = TinyModel(theta: Tensor(shape: [2], scalars: [1, -2]))
        var adam = Adam(learningRate: Float(lr), weightDecay: Float(decay))
        let grads: [[Double]] = [[0.5, -0.25], [-1, 3]]
        var theta: [Double] = [1, -2], m = [0.0, 0.0], v = [0.0, 0.0]
        for (t, g) in grads.enumerated() {
            adam.update(&model, gradients: Tensor(shape: [2], scalars: g.map(Float.init)))
            let step = Double(t + 1)
            for j in 0..<2 {
                let gj = g[j] + decay * theta[j]
                m[j] = b1 * m[j] + (1 - b1) * gj
                v[j] = b2 * v[j] + (1 - b2) * gj * gj
                let mHat = m[j] / (1 - pow(b1, step))
                let denominator = v[j].squareRoot() / (1 - pow(b2, step)).squareRoot() + eps
                theta[j] -= lr * mHat / denominator
                #expect(isClose(model.theta.scalars[j], Float(theta[j]), relative: 1e-6), "step \(t + 1), coordinate \(j)")
            }
        }
        #expect(adam.step == 2)
    }

    @Test func sgdWithMomentumFollowsTorchFormula() {
        var model = TinyModel(theta: Tensor(shape: [1], scalars: [1]))
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        sgd.update(&model, gradients: Tensor(shape: [1], scalars: [2]))  // b = 2
        #expect(isClose(model.theta.scalars[0], 1 - 0.1 * 2))
        sgd.update(&model, gradients: Tensor(shape: [1], scalars: [1]))  // b = 0.9 * 2 + 1
        #expect(isClose(model.theta.scalars[0], 1 - 0.2 - 0.1 * 2.8))
    }

    @Test func adamLeavesBatchNormBuffersAlone() throws {
        var generator = SeededGenerator(seed: 1)
        var cnn = try CNN(configuration: CNNConfiguration(imageSize: 8, channels: [2], kernelSize: 3, padding: .same), generator: &generator)
        cnn.blocks[0].batchNorm.runningMean = Tensor(repeating: 0.5, shape: [2])
        var gradients = CNNGradients(zerosLike: cnn)
        gradients.classifier.bias = Tensor(repeating: 1, shape: [3])
        let before = cnn
        var adam = Adam()
        adam.update(&cnn, gradients: gradients)
        #expect(cnn.blocks[0].batchNorm.runningMean == before.blocks[0].batchNorm.runningMean)
        #expect(cnn.blocks[0].batchNorm.runningVar == before.blocks[0].batchNorm.runningVar)
        for j in 0..<3 { #expect(isClose(cnn.classifier.bias.scalars[j], before.classifier.bias.scalars[j] - 0.01, relative: 1e-4)) }
        #expect(cnn.classifier.weight == before.classifier.weight)
    }
}
