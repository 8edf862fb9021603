import Foundation
import NN
import Tensor

/// A Noise2Void denoiser: the U-Net with the normalisation of its training data. As in the N2V
/// reference, inputs are standardised with the training images' mean and standard deviation and the
/// output is mapped back; here the result is also clipped to [0, 1], the range the classifier trains on.
///
/// denoised(x) = clip(std * unet((x - mean) / std) + mean, 0, 1);  x: [N, 1, H, W] (any H, W >= 4).
public struct Noise2VoidDenoiser: Sendable {
    public var network: UNet
    public var mean: Float
    public var standardDeviation: Float

    public init(network: UNet, mean: Float, standardDeviation: Float) {
        self.network = network
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The U-Net of the settings (N2V reference: depth 2, 32 first-layer channels, 3x3, batch norm).
    public static func networkConfiguration(_ settings: Noise2VoidSettings) -> UNetConfiguration {
        UNetConfiguration(depth: settings.depth, firstChannels: settings.firstChannels)
    }

    /// images -> denoised images, `batchSize` at a time, in evaluation mode. `progress(done, total)`.
    public func denoised(_ images: Tensor, batchSize: Int = 8, progress: ((Int, Int) -> Void)? = nil) -> Tensor {
        let scale = 1 / standardDeviation
        let normalized = images.mapped { ($0 - mean) * scale }
        let output = network.evaluatedInBatches(normalized, batchSize: batchSize, progress: progress)
        return output.mapped { Swift.min(Swift.max($0 * standardDeviation + mean, 0), 1) }
    }

    /// The weights by name (`unet.` + the U-Net's names) and `normalization` = [mean, std].
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        network.namedTensors().map { ("unet." + $0.name, $0.tensor) }
            + [("normalization", Tensor(shape: [2], scalars: [mean, standardDeviation]))]
    }

    /// A denoiser from tensors saved by `namedTensors()` (missing or mis-shaped tensors are errors that name them).
    public init(namedTensors tensors: [String: Tensor], configuration: UNetConfiguration, threads: Int = 1) throws {
        var generator = SeededGenerator(seed: 0)
        var network = try UNet(configuration: configuration, generator: &generator, threads: threads)
        var weights: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix("unet.") { weights[String(name.dropFirst(5))] = tensor }
        try network.load(namedTensors: weights)
        guard let normalization = tensors["normalization"], normalization.count == 2, normalization.scalars[1] > 0 else {
            throw CNNLoadError.missing(name: "normalization (the denoiser's [mean, std])")
        }
        self.init(network: network, mean: normalization.scalars[0], standardDeviation: normalization.scalars[1])
    }
}

/// Trains a `Noise2VoidDenoiser` on noisy images alone (Krull et al. 2019): random square patches
/// of the images, augmented by the 8 flips/rotations of the square, blind-spot masked
/// (`BlindSpotMask`), the masked MSE (`MaskedMSE`) minimised by Adam.
public struct Noise2VoidTraining {
    public var settings: Noise2VoidSettings
    public var seed: UInt64
    public var threads: Int

    public init(settings: Noise2VoidSettings, seed: UInt64, threads: Int = 2) {
        self.settings = settings
        self.seed = seed
        self.threads = threads
    }

    /// What training produced: the denoiser, the mean masked loss of each epoch, and the seconds spent.
    public struct Outcome: Sendable {
        public var denoiser: Noise2VoidDenoiser
        public var epochLosses: [Double]
        public var seconds: Double
    }

    /// The patch side actually used: the setting, capped by the images' sides.
    public func patchSide(for images: Tensor) -> Int {
        Swift.min(settings.patchSize, images.shape[2], images.shape[3])
    }

    /// images: [N, 1, H, W] noisy images. `progress(epoch, batch, batches, running loss)` after each batch.
    public func train(on images: Tensor, progress: ((Int, Int, Int, Double) -> Void)? = nil) throws -> Outcome {
        guard images.rank == 4, images.shape[0] > 0, images.shape[1] == 1 else {
            throw TrainingError.invalidConfiguration("Noise2Void needs one-channel images [N, 1, H, W], got \(images.shape)")
        }
        let network = Noise2VoidDenoiser.networkConfiguration(settings)
        let side = patchSide(for: images)
        guard side >= Swift.max(network.minimumSide, 2) else {
            throw TrainingError.invalidConfiguration("Noise2Void patches of \(side) px are smaller than the U-Net's minimum \(network.minimumSide) px: raise --n2v-patch-size (and use images at least that large)")
        }
        guard settings.epochs >= 1, settings.patchesPerEpoch >= 1, settings.batchSize >= 1, settings.learningRate > 0 else {
            throw TrainingError.invalidConfiguration("Noise2Void epochs, patches per epoch, batch size and learning rate must be positive (got \(settings.epochs), \(settings.patchesPerEpoch), \(settings.batchSize), \(settings.learningRate))")
        }
        let started = Date()
        var generator = SeededGenerator(seed: seed, purpose: .noise2VoidInitialisation)
        var unet = try UNet(configuration: network, generator: &generator, threads: threads)
        let mean = images.mean()
        let deviation = Swift.max(Float(Self.standardDeviation(images, mean: mean)), 1e-6)
        let normalized = images.mapped { ($0 - mean) / deviation }
        var adam = Adam(learningRate: settings.learningRate)
        var epochLosses: [Double] = []
        let batches = (settings.patchesPerEpoch + settings.batchSize - 1) / settings.batchSize
        for epoch in 0..<settings.epochs {
            var epochGenerator = SeededGenerator(seed: seed, purpose: .noise2VoidPatches, index: epoch)
            var lossSum = 0.0
            for b in 0..<batches {
                let count = Swift.min(settings.batchSize, settings.patchesPerEpoch - b * settings.batchSize)
                let batch = Self.sampleBatch(normalized, count: count, side: side, settings: settings, generator: &epochGenerator)
                let (prediction, cache) = unet.forward(batch.input, mode: .training)
                let (loss, dprediction) = MaskedMSE.evaluate(prediction: prediction, target: batch.target, masks: batch.masks)
                guard loss.isFinite else {
                    throw TrainingError.diverged(epoch: epoch + 1, batch: b + 1, hint: "Noise2Void's loss is not finite: lower its learning rate (now \(settings.learningRate)).")
                }
                var gradients = UNetGradients(zerosLike: unet)
                _ = unet.backward(dout: dprediction, cache: cache, gradients: &gradients)
                adam.update(&unet, gradients: gradients)
                lossSum += Double(loss)
                progress?(epoch + 1, b + 1, batches, lossSum / Double(b + 1))
            }
            epochLosses.append(lossSum / Double(batches))
        }
        return Outcome(denoiser: Noise2VoidDenoiser(network: unet, mean: mean, standardDeviation: deviation),
                       epochLosses: epochLosses, seconds: Date().timeIntervalSince(started))
    }

    static func standardDeviation(_ images: Tensor, mean: Float) -> Double {
        var total = 0.0
        images.withUnsafeBufferPointer { x in for v in x { total += Double((v - mean) * (v - mean)) } }
        return (total / Double(Swift.max(images.count, 1))).squareRoot()
    }

    /// One training batch: masked inputs, unmasked targets ([B, 1, P, P]) and the masks.
    public struct Batch {
        public var input: Tensor
        public var target: Tensor
        public var masks: [BlindSpotMask]
    }

    /// `count` patches: a random image, a random P x P window, one of the 8 symmetries of the square,
    /// then a blind-spot mask.
    public static func sampleBatch(_ images: Tensor, count: Int, side: Int, settings: Noise2VoidSettings,
                                   generator: inout SeededGenerator) -> Batch {
        let n = images.shape[0], h = images.shape[2], w = images.shape[3]
        var inputs: [Float] = [], targets: [Float] = [], masks: [BlindSpotMask] = []
        inputs.reserveCapacity(count * side * side)
        targets.reserveCapacity(count * side * side)
        for _ in 0..<count {
            let image = generator.nextInt(below: n)
            let top = generator.nextInt(below: h - side + 1), left = generator.nextInt(below: w - side + 1)
            let symmetry = generator.nextInt(below: 8)
            var patch = [Float](repeating: 0, count: side * side)
            images.withUnsafeBufferPointer { x in
                let base = image * h * w
                for y in 0..<side {
                    for xx in 0..<side {
                        let (sy, sx) = Self.symmetrySource(y, xx, side: side, symmetry: symmetry)
                        patch[y * side + xx] = x[base + (top + sy) * w + left + sx]
                    }
                }
            }
            let mask = BlindSpotMask.draw(side: side, fraction: settings.maskedFraction, radius: settings.neighbourRadius,
                                          generator: &generator)
            inputs += mask.applied(to: patch)
            targets += patch
            masks.append(mask)
        }
        return Batch(input: Tensor(shape: [count, 1, side, side], scalars: inputs),
                     target: Tensor(shape: [count, 1, side, side], scalars: targets), masks: masks)
    }

    /// `symmetrySource` for tests.
    public static func symmetrySourceForTests(_ y: Int, _ x: Int, side: Int, symmetry: Int) -> (Int, Int) {
        symmetrySource(y, x, side: side, symmetry: symmetry)
    }

    /// Where output pixel (y, x) of a patch comes from under symmetry s in 0..<8: s % 4 quarter turns,
    /// then a left-right flip when s >= 4.
    static func symmetrySource(_ y: Int, _ x: Int, side: Int, symmetry: Int) -> (Int, Int) {
        let last = side - 1
        let x0 = symmetry >= 4 ? last - x : x
        switch symmetry % 4 {
        case 0: return (y, x0)
        case 1: return (x0, last - y)
        case 2: return (last - y, last - x0)
        default: return (last - x0, y)
        }
    }
}
