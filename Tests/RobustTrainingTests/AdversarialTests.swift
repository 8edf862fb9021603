import Foundation
import NN
import RobustTraining
import Tensor
import Testing

@Suite struct AdversarialTests {
    /// A CNN trained a little on the toy problem, so that its loss surface is not flat.
    func trainedModel() throws -> (CNN, TrainingData) {
        let trainer = Trainer(configuration: toyConfiguration(epochs: 2))
        let data = toyTrainingData()
        var state = try trainer.initialState(data: data)
        var method = NaiveMethod()
        try trainer.run(data: data, method: &method, state: &state)
        return (state.model, data)
    }

    @Test func perturbationStaysInsideEpsilonAndImagesInsideTheUnitRange() throws {
        let (model, data) = try trainedModel()
        let images = data.train.images.items(0..<16), labels = Array(data.train.labels[0..<16])
        let epsilon: Float = 8 / 255
        var generator = SeededGenerator(seed: 4)
        let adversarial = FGSM.adversarialImages(images, labels: labels, model: model, epsilon: epsilon, alpha: 10 / 255,
                                                 generator: &generator)
        #expect(adversarial.shape == images.shape)
        #expect(adversarial.maxAbsDifference(images) <= epsilon * (1 + 1e-5))
        #expect(adversarial.min() >= 0 && adversarial.max() <= 1)
        // The toy images touch 0 and 1, so the clipping to [0, 1] is exercised, and most pixels move.
        #expect(images.min() == 0 && images.max() == 1)
        let moved = zip(adversarial.scalars, images.scalars).filter { abs($0 - $1) > epsilon / 2 }.count
        #expect(moved > images.count / 2)
    }

    @Test func oneFGSMStepRaisesTheLossOfAFixedModel() throws {
        let (model, data) = try trainedModel()
        let images = data.train.images.items(0..<32), labels = Array(data.train.labels[0..<32])
        func loss(_ x: Tensor) -> Float {
            SoftmaxCrossEntropy.evaluate(logits: model.evaluated(x).logits, labels: labels).loss
        }
        var clean = 0.0, attacked = 0.0, randomOnly = 0.0
        for seed in UInt64(1)...4 {
            var generator = SeededGenerator(seed: seed)
            let adversarial = FGSM.adversarialImages(images, labels: labels, model: model, epsilon: 8 / 255, alpha: 10 / 255,
                                                     mode: .evaluation, generator: &generator)
            var noiseGenerator = SeededGenerator(seed: seed)
            let noise = Tensor(randomUniform: images.shape, low: -8 / 255, high: 8 / 255, generator: &noiseGenerator)
            clean += Double(loss(images))
            attacked += Double(loss(adversarial))
            randomOnly += Double(loss((images + noise).clipped(to: 0, 1)))
        }
        #expect(attacked > clean * 1.05, "clean \(clean / 4), FGSM \(attacked / 4)")
        #expect(attacked > randomOnly, "random start only \(randomOnly / 4), FGSM \(attacked / 4)")
    }

    @Test func theAttackLeavesBatchNormStatisticsAloneAndIsSeeded() throws {
        let (model, data) = try trainedModel()
        let images = data.train.images.items(0..<8), labels = Array(data.train.labels[0..<8])
        let method = AdversarialMethod()
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let a = method.trainingBatch(images, labels: labels, model: model, generator: &g1)
        let b = method.trainingBatch(images, labels: labels, model: model, generator: &g2)
        #expect(a == b)
        #expect(a != images)
        #expect(model.blocks.map(\.batchNorm.numBatchesTracked) == (try trainedModel()).0.blocks.map(\.batchNorm.numBatchesTracked))
    }

    @Test func adversarialTrainingRunsThroughTheTrainer() throws {
        var configuration = toyConfiguration(epochs: 3)
        configuration.method = .at
        let trainer = Trainer(configuration: configuration)
        let data = toyTrainingData()
        var state = try trainer.initialState(data: data)
        var method = try TrainingMethods.make(for: configuration)
        try trainer.run(data: data, method: &method, state: &state)
        #expect(state.history.count == 3)
        #expect(state.history.last!.test[0].evaluation.accuracy > 0.8)
    }
}
