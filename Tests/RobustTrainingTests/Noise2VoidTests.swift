import Foundation
import NN
import RobustTraining
import Tensor
import Testing

@Suite struct Noise2VoidTests {
    @Test func masksHaveTheRightCountAndNeighboursWithinTheRadius() {
        #expect(BlindSpotMask.maskedCount(pixelCount: 64 * 64, fraction: 0.00198) == 8)
        #expect(BlindSpotMask.maskedCount(pixelCount: 16 * 16, fraction: 0.00198) == 1)
        var generator = SeededGenerator(seed: 1)
        for side in [7, 16, 64] {
            for _ in 0..<20 {
                let mask = BlindSpotMask.draw(side: side, fraction: 0.00198, radius: 5, generator: &generator)
                #expect(mask.positions.count == BlindSpotMask.maskedCount(pixelCount: side * side, fraction: 0.00198))
                #expect(Set(mask.positions).count == mask.positions.count)
                for (p, s) in zip(mask.positions, mask.sources) {
                    let (dy, dx) = (s / side - p / side, s % side - p % side)
                    #expect(p != s)
                    #expect(abs(dy) <= 5 && abs(dx) <= 5)
                    #expect((0..<side * side).contains(s))
                }
            }
        }
        // Every offset of the window (but the centre) is drawn, so the replacement is uniform over it.
        var offsets = Set<[Int]>()
        for _ in 0..<400 {
            let mask = BlindSpotMask.draw(side: 32, fraction: 0.01, radius: 2, generator: &generator)
            for (p, s) in zip(mask.positions, mask.sources) { offsets.insert([s / 32 - p / 32, s % 32 - p % 32]) }
        }
        #expect(offsets.count == 24)
    }

    @Test func maskedInputsReplaceOnlyTheMaskedPixels() {
        var generator = SeededGenerator(seed: 2)
        let patch = (0..<100).map { Float($0) }
        let mask = BlindSpotMask.draw(side: 10, fraction: 0.05, radius: 5, generator: &generator)
        let input = mask.applied(to: patch)
        for j in 0..<100 {
            if let k = mask.positions.firstIndex(of: j) {
                #expect(input[j] == patch[mask.sources[k]])
            } else {
                #expect(input[j] == patch[j])
            }
        }
    }

    @Test func theLossSeesOnlyMaskedPixels() {
        var generator = SeededGenerator(seed: 3)
        let masks = (0..<2).map { _ in BlindSpotMask.draw(side: 8, fraction: 0.05, radius: 5, generator: &generator) }
        let target = Tensor(randomUniform: [2, 1, 8, 8], generator: &generator)
        var prediction = Tensor(randomUniform: [2, 1, 8, 8], generator: &generator)
        let (loss, gradient) = MaskedMSE.evaluate(prediction: prediction, target: target, masks: masks)
        let masked = Set(masks[0].positions + masks[1].positions.map { $0 + 64 })
        for j in 0..<128 where !masked.contains(j) {
            #expect(gradient.scalars[j] == 0)
        }
        // Changing an unmasked output pixel leaves the loss unchanged; a masked one changes it.
        let unmasked = (0..<128).first { !masked.contains($0) }!
        prediction.scalars[unmasked] += 0.5
        #expect(MaskedMSE.evaluate(prediction: prediction, target: target, masks: masks).loss == loss)
        prediction.scalars[masks[1].positions[0] + 64] += 0.5
        #expect(MaskedMSE.evaluate(prediction: prediction, target: target, masks: masks).loss != loss)
        // The gradient is 2 (f - x) / M at the masked pixels.
        let m = Float(masks[0].positions.count + masks[1].positions.count)
        let j = masks[0].positions[0]
        #expect(abs(gradient.scalars[j] - 2 * (prediction.scalars[j] - target.scalars[j]) / m) < 1e-6)
    }

    @Test func theEightSymmetriesAreDistinctPermutations() {
        let side = 5
        var seen = Set<[Int]>()
        for s in 0..<8 {
            var map: [Int] = []
            for y in 0..<side { for x in 0..<side { let (sy, sx) = Noise2VoidTraining.symmetrySourceForTests(y, x, side: side, symmetry: s); map.append(sy * side + sx) } }
            #expect(Set(map).count == side * side)
            seen.insert(map)
        }
        #expect(seen.count == 8)
    }

    /// Smooth images plus Gaussian noise (sigma 0.1): N2V, trained on the noisy images only, brings
    /// them closer to the clean ones (a PSNR gain), the same way for the same seed.
    static func smoothProblem(count: Int = 12, side: Int = 32, seed: UInt64 = 5) -> (clean: Tensor, noisy: Tensor) {
        var generator = SeededGenerator(seed: seed)
        var clean = Tensor(zeros: [count, 1, side, side])
        for i in 0..<count {
            let (fx, fy, phase) = (0.1 + 0.2 * Double(generator.nextUniform()), 0.1 + 0.2 * Double(generator.nextUniform()), 6 * Double(generator.nextUniform()))
            for y in 0..<side {
                for x in 0..<side {
                    clean.scalars[(i * side + y) * side + x] = Float(0.5 + 0.3 * sin(fx * Double(x) + phase) * cos(fy * Double(y)))
                }
            }
        }
        let noise = Tensor(randomNormal: clean.shape, standardDeviation: 0.1, generator: &generator)
        return (clean, clean + noise)
    }

    static var smallSettings: Noise2VoidSettings {
        var settings = Noise2VoidSettings()
        settings.firstChannels = 8
        settings.patchSize = 32
        settings.maskedFraction = 0.02
        settings.epochs = 2
        settings.patchesPerEpoch = 128
        settings.batchSize = 16
        settings.learningRate = 4e-3
        return settings
    }

    @Test func trainingOnNoisyImagesAloneRaisesThePSNR() throws {
        let (clean, noisy) = Self.smoothProblem()
        let training = Noise2VoidTraining(settings: Self.smallSettings, seed: 11, threads: 2)
        let outcome = try training.train(on: noisy)
        let denoised = outcome.denoiser.denoised(noisy)
        let before = DenoisingMetrics.mean(noisy.clipped(to: 0, 1), references: clean)
        let after = DenoisingMetrics.mean(denoised, references: clean)
        #expect(after.psnr > before.psnr + 4, "PSNR noisy \(before.psnr), denoised \(after.psnr); losses \(outcome.epochLosses)")
        #expect(after.ssim > before.ssim, "SSIM noisy \(before.ssim), denoised \(after.ssim)")
        // Same seed, same denoiser, bit for bit (nothing in the package changes OpenBLAS's process-wide
        // thread count while other work runs).
        let again = try training.train(on: noisy)
        #expect(again.denoiser.denoised(noisy) == denoised)
    }

    @Test func theMethodDenoisesTrainingAndEvaluationImagesAndRestoresItsDenoiser() throws {
        var configuration = toyConfiguration(epochs: 2)
        configuration.method = .n2v
        var settings = Self.smallSettings
        settings.patchSize = 16
        settings.epochs = 1
        settings.patchesPerEpoch = 64
        configuration.noise2void = settings
        let trainer = Trainer(configuration: configuration)
        let data = toyTrainingData()
        var state = try trainer.initialState(data: data)
        var method = try TrainingMethods.make(for: configuration)
        try trainer.run(data: data, method: &method, state: &state)
        #expect(state.trainImages != data.train.images)
        #expect(state.trainImages.shape == data.train.images.shape)
        let testImages = data.test[0].set.images
        let denoisedTest = method.evaluationImages(testImages)
        #expect(denoisedTest != testImages && denoisedTest.shape == testImages.shape)
        // A fresh method restored from the checkpoint tensors denoises identically.
        var restored = try TrainingMethods.make(for: configuration)
        try restored.restore(from: Dictionary(uniqueKeysWithValues: method.checkpointTensors().map { ($0.name, $0.tensor) }))
        #expect(restored.evaluationImages(testImages) == denoisedTest)
        #expect(throws: TrainingError.self) { try restored.restore(from: [:]) }
    }
}
