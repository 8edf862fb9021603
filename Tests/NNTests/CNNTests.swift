import NN
import Tensor
import Testing
import TestSupport

@Suite struct CNNTests {
    /// Two small variants that exercise both paddings and both convolution kernels.
    static let small: [CNNConfiguration] = [
        CNNConfiguration(imageSize: 16, channels: [3, 4], kernelSize: 3, padding: .same),
        CNNConfiguration(imageSize: 18, channels: [3, 4], kernelSize: 5, padding: .valid),
    ]

    func model(_ configuration: CNNConfiguration, seed: UInt64 = 1, threads: Int = 1) throws -> CNN {
        var generator = SeededGenerator(seed: seed)
        return try CNN(configuration: configuration, generator: &generator, threads: threads)
    }

    @Test func presetsHaveThePapersSizes() throws {
        let authors = CNNConfiguration.authors(imageSize: 256)
        #expect(authors.featureCount == 1024)
        #expect(authors.blockSizes.map(\.pooled) == [126, 61, 28, 12, 4])
        #expect(CNNConfiguration.same3x3(imageSize: 128).featureCount == 64 * 4 * 4)
        let cnn = try model(.same3x3(imageSize: 32))
        #expect(cnn.classifier.weight.shape == [3, 64])
        #expect(cnn.namedTensors().map(\.name).prefix(7) == ["features.0.weight", "features.0.bias", "features.1.weight",
                                                                "features.1.bias", "features.1.running_mean", "features.1.running_var",
                                                                "features.4.weight"])
        #expect(cnn.namedCounters().map(\.name).last == "features.17.num_batches_tracked")
    }

    @Test func tooSmallImagesThrowATypedError() throws {
        let authors = CNNConfiguration.authors(imageSize: 150)
        #expect(authors.minimumImageSize == 156)
        var generator = SeededGenerator(seed: 1)
        #expect(throws: CNNConfigurationError.imageTooSmall(imageSize: 150, minimum: 156, kernelSize: 5, padding: .valid, blocks: 5)) {
            _ = try CNN(configuration: authors, generator: &generator)
        }
        #expect(throws: CNNConfigurationError.self) { _ = try CNN(configuration: .same3x3(imageSize: 31), generator: &generator) }
        #expect(throws: Never.self) { _ = try CNN(configuration: .authors(imageSize: 156), generator: &generator) }
    }

    /// Settings from a damaged checkpoint or config.json must be errors, not traps: 70 blocks used to overflow
    /// `minimumImageSize`, a huge channel count the weight count; a configuration the file cannot hold is
    /// refused before the network is allocated.
    @Test func absurdConfigurationsAreErrorsNotTrapsOrAllocations() throws {
        let deep = CNNConfiguration(imageSize: 64, channels: [Int](repeating: 1, count: 70), kernelSize: 3, padding: .same)
        #expect(deep.minimumImageSize == Int.max)
        #expect(throws: CNNConfigurationError.imageTooSmall(imageSize: 64, minimum: Int.max, kernelSize: 3, padding: .same, blocks: 70)) {
            try deep.validate()
        }
        let wideKernel = CNNConfiguration(imageSize: 64, channels: [4, 4], kernelSize: Int.max, padding: .valid)
        #expect(wideKernel.minimumImageSize == Int.max)
        let wide = CNNConfiguration(imageSize: 64, channels: [1 << 62], kernelSize: 3, padding: .same)
        #expect(wide.weightCount == nil)
        #expect(throws: CNNConfigurationError.tooLarge(weights: nil)) { try wide.validate() }
        let large = CNNConfiguration(imageSize: 64, channels: [100_000, 100_000], kernelSize: 3, padding: .same)
        #expect(throws: CNNConfigurationError.tooLarge(weights: large.weightCount)) { try large.validate() }
        #expect(CNNConfiguration.authors(imageSize: 256).weightCount == 1 * 32 * 25 + 32 * 32 * 25 + 32 * 64 * 25 + 64 * 64 * 25 * 2 + 1024 * 3)

        // A checkpoint whose metadata describes 100 x 100-channel blocks but stores a 2-channel network's tensors.
        var generator = SeededGenerator(seed: 1)
        let small = CNNConfiguration(imageSize: 8, channels: [2], kernelSize: 3, padding: .same)
        var file = ModelCheckpoint.file(for: try CNN(configuration: small, generator: &generator))
        var claimed = small
        claimed.channels = [100, 100]
        try file.setMetadataJSON(ModelCheckpoint.configurationKey, claimed)
        file.source = "claims.safetensors"
        let stored = file.tensors.filter { $0.tensor.dtype == .f32 }.reduce(0) { $0 + $1.tensor.elementCount }
        #expect(throws: CheckpointError.badMetadata(
            file: "claims.safetensors", key: ModelCheckpoint.configurationKey,
            detail: "describes a network of \(claimed.weightCount ?? 0) weights, but the file stores \(stored) F32 values")) {
            _ = try ModelCheckpoint.model(from: file)
        }
    }

    /// Training-mode loss of a copy of `cnn` (so BatchNorm statistics do not drift between probes).
    func trainingLoss(_ cnn: CNN, _ images: Tensor, _ labels: [Int]) -> Double {
        var copy = cnn
        return Double(SoftmaxCrossEntropy.evaluate(logits: copy.forward(images, mode: .training).logits, labels: labels).loss)
    }

    @Test(arguments: small)
    func inputAndParameterGradientsMatchFiniteDifferences(configuration: CNNConfiguration) throws {
        let cnn = try model(configuration, threads: 2)
        let images = randomTensor([3, 1, configuration.imageSize, configuration.imageSize], seed: 2)
        let labels = [0, 2, 1]
        var copy = cnn
        let (logits, cache) = copy.forward(images, mode: .training)
        let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
        let (gradients, dimages) = cnn.backward(dlogits: loss.dlogits, cache: cache)
        let byInput = kinkAwareGradientCheck(of: { trainingLoss(cnn, $0, labels) }, at: images, analytic: dimages)
        #expect(byInput.worst < FiniteDifference.tolerance, "input: \(byInput)")
        // Every trainable parameter, by name.
        for (name, gradient) in gradients.namedTensors() {
            let value = cnn.namedTensors().first { $0.name == name }?.tensor ?? Tensor(zeros: [0])
            let check = kinkAwareGradientCheck(of: { v in
                var changed = cnn
                var tensors = changed.namedTensors()
                if let i = tensors.firstIndex(where: { $0.name == name }) { tensors[i].tensor = v }
                try? changed.load(namedTensors: tensors)
                return trainingLoss(changed, images, labels)
            }, at: value, analytic: gradient, maxChecks: 8)
            #expect(check.worst < FiniteDifference.tolerance, "\(name): \(check)")
        }
        // The parameter-only path gives the same parameter gradients.
        #expect(cnn.parameterGradients(dlogits: loss.dlogits, cache: cache) == gradients)
    }

    @Test(arguments: [Mode.evaluation, .training])
    func featureGradientMatchesFiniteDifferences(mode: Mode) throws {
        var cnn = try model(Self.small[1], seed: 3)
        var warm = cnn
        _ = warm.forward(randomTensor([4, 1, 18, 18], seed: 4), mode: .training)  // non-trivial running statistics
        cnn.blocks = warm.blocks
        let images = randomTensor([2, 1, 18, 18], seed: 5)
        let r = randomTensor([2, Self.small[1].featureCount], seed: 6)
        var copy = cnn
        let (_, cache) = copy.features(images, mode: mode)
        let dimages = cnn.backwardFromFeatures(dfeatures: r, cache: cache)
        let check = kinkAwareGradientCheck(of: { x in
            var c = cnn
            return probe(c.features(x, mode: mode).features, r)
        }, at: images, analytic: dimages, maxChecks: 32)
        #expect(check.worst < FiniteDifference.tolerance, "\(mode): \(check)")
        if mode == .evaluation {
            #expect(cnn.evaluatedFeatures(images).features == copy.features(images, mode: .evaluation).features)
        }
    }

    /// Adam for reproducibility; SGD across thread counts (Adam's m / sqrt(v) turns the pure-rounding
    /// gradient of a conv bias in front of BatchNorm, exactly 0 in exact arithmetic, into full steps).
    @Test func trainingIsReproducibleForAThreadCountAndCloseAcrossThreadCounts() throws {
        func trainedParameters(threads: Int, adam useAdam: Bool = true) throws -> [Tensor] {
            var cnn = try model(.same3x3(imageSize: 32), seed: 7, threads: threads)
            var adam = Adam()
            var sgd = SGD(learningRate: 0.01, momentum: 0.9)
            let images = randomTensor([6, 1, 32, 32], seed: 8)
            for _ in 0..<2 {
                let (logits, cache) = cnn.forward(images, mode: .training)
                let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [0, 1, 2, 0, 1, 2])
                let gradients = cnn.parameterGradients(dlogits: loss.dlogits, cache: cache)
                if useAdam { adam.update(&cnn, gradients: gradients) } else { sgd.update(&cnn, gradients: gradients) }
            }
            return cnn.namedTensors().map(\.tensor)
        }
        let a = try trainedParameters(threads: 2), b = try trainedParameters(threads: 2)
        #expect(a == b)
        let c = try trainedParameters(threads: 2, adam: false), d = try trainedParameters(threads: 1, adam: false)
        for (x, y) in zip(c, d) { #expect(relativeError(x, y) < kernelTolerance) }
    }

    @Test func namedTensorsRoundTripAndMismatchesAreNamed() throws {
        let source = try model(Self.small[0], seed: 9)
        var target = try model(Self.small[0], seed: 10)
        #expect(target.namedTensors().map(\.tensor) != source.namedTensors().map(\.tensor))
        try target.load(namedTensors: source.namedTensors(), namedCounters: [("features.1.num_batches_tracked", 5)])
        #expect(target.namedTensors().map(\.tensor) == source.namedTensors().map(\.tensor))
        #expect(target.blocks[0].batchNorm.numBatchesTracked == 5)
        var tensors = source.namedTensors()
        tensors[0].tensor = Tensor(zeros: [1])
        #expect(throws: CNNLoadError.shapeMismatch(name: "features.0.weight", expected: [3, 1, 3, 3], found: [1])) {
            try target.load(namedTensors: tensors)
        }
        #expect(throws: CNNLoadError.missing(name: "classifier.bias")) { try target.load(namedTensors: Array(source.namedTensors().dropLast())) }
        #expect(throws: CNNLoadError.unexpected(name: "extra")) {
            try target.load(namedTensors: source.namedTensors() + [("extra", Tensor(zeros: [1]))])
        }
    }

    /// The evaluation pass without a cache, in chunks of images: the batch's logits to the bit, for any chunk (one
    /// image, a divisor, a remainder, the whole batch) and thread count.
    /// With 3x3 layers at 32 and 16 px (Winograd in every pass, and in evaluation only: `Conv2D.evaluationKernel`), so
    /// the fused Winograd blocks (`BatchNormReLUPool.evaluatedWinograd`) are held to the cached evaluation pass too.
    static let winogradSized = CNNConfiguration(imageSize: 64, channels: [3, 4, 5], kernelSize: 3, padding: .same)

    @Test(arguments: small + [winogradSized])
    func chunkedEvaluationLogitsEqualTheBatchsToTheBit(configuration: CNNConfiguration) throws {
        var generator = SeededGenerator(seed: 4)
        let images = Tensor(randomUniform: [13, 1, configuration.imageSize, configuration.imageSize], generator: &generator)
        for threads in [1, 2] {
            let cnn = try model(configuration, threads: threads)
            let batch = cnn.evaluated(images).logits
            for chunk in [1, 4, 5, 13, 64] {
                let chunked = cnn.evaluatedLogits(images, chunk: chunk)
                #expect(chunked.shape == batch.shape)
                #expect(chunked.scalars.map(\.bitPattern) == batch.scalars.map(\.bitPattern), "chunk \(chunk), threads \(threads)")
            }
        }
    }

    /// Training's parameter gradients form the first layer's dout one image at a time (`parameterGradients`); the
    /// full backward pass (which also returns the input gradient) forms the whole batch's first. The same bytes, at
    /// 1 and 2 threads, with batches of fewer and more images than the reduction's pieces.
    @Test(arguments: small)
    func firstLayerDoutFormedPerImageGivesTheSameGradientsToTheBit(configuration: CNNConfiguration) throws {
        var generator = SeededGenerator(seed: 9)
        for (threads, n) in [(1, 5), (2, 5), (2, 11)] {
            var cnn = try model(configuration, threads: threads)
            let images = Tensor(randomUniform: [n, 1, configuration.imageSize, configuration.imageSize], generator: &generator)
            let (logits, cache) = cnn.forward(images, mode: .training)
            let dlogits = Tensor(randomNormal: logits.shape, generator: &generator)
            let perImage = cnn.parameterGradients(dlogits: dlogits, cache: cache)
            let wholeBatch = cnn.backward(dlogits: dlogits, cache: cache).gradients
            func bits(_ g: CNNGradients) -> [UInt32] {
                (g.blocks.flatMap { [$0.convolution.weight, $0.convolution.bias, $0.batchNorm.weight, $0.batchNorm.bias] }
                    + [g.classifier.weight, g.classifier.bias]).flatMap { $0.scalars.map(\.bitPattern) }
            }
            #expect(bits(perImage) == bits(wholeBatch), "threads \(threads), \(n) images")
        }
    }
}

