import Tensor

/// The paper's CNN (see `CNNConfiguration`) as a value: blocks of Conv2D -> BatchNorm2D -> ReLU ->
/// MaxPool2D(2), Flatten, then the `classifier` Linear layer.
///
/// images x: [N, inputChannels, S, S] -> features h(x): [N, D] -> logits: [N, classes].
/// Train/evaluation mode is an argument of every pass; a training pass updates BatchNorm's running
/// statistics, which is why `forward` and `features` are `mutating` (the `evaluated...` forms are not).
/// `threads` is a runtime setting (not saved with the configuration): work is split over images
/// (convolutions) or channels (BatchNorm) into that many pieces, with OpenBLAS at one thread inside.
public struct CNN: Sendable {
    /// Block b: `features.{4b}` (Conv2d) and `features.{4b+1}` (BatchNorm2d) in PyTorch's naming.
    public struct Block: Sendable {
        public var convolution: Conv2D
        public var batchNorm: BatchNorm2D
    }

    public let configuration: CNNConfiguration
    public var blocks: [Block]
    /// The final layer, Linear(D -> classes): weight [classes, D], bias [classes].
    public var classifier: Linear
    /// Pieces of parallel work (1 = single-threaded). Not part of the saved configuration.
    public var threads: Int

    /// PyTorch's default initialisation, drawn from `generator` layer by layer in order
    /// (each conv's weight then bias, ..., then the classifier's weight then bias).
    public init(configuration: CNNConfiguration, generator: inout SeededGenerator, threads: Int = 1) throws(CNNConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.threads = Swift.max(1, threads)
        var inChannels = configuration.inputChannels
        blocks = []
        for c in configuration.channels {
            blocks.append(Block(
                convolution: Conv2D(inputChannels: inChannels, outputChannels: c, kernelSize: configuration.kernelSize,
                                    padding: configuration.padding, generator: &generator),
                batchNorm: BatchNorm2D(channels: c)))
            inChannels = c
        }
        classifier = Linear(inputCount: configuration.featureCount, outputCount: configuration.classes, generator: &generator)
    }

    /// Everything a backward pass needs from a forward pass (and the mode it ran in).
    public struct Cache: Sendable {
        public let mode: Mode
        struct BlockCache: Sendable {
            let convolution: Conv2D.Cache
            let normalizedPool: BatchNormReLUPool.Cache
        }
        let blocks: [BlockCache]
        let pooledShape: [Int]
        let classifier: Linear.Cache?
    }

    // MARK: Forward

    /// images: [N, C, S, S] -> logits: [N, classes]. Training mode updates BatchNorm running statistics.
    public mutating func forward(_ images: Tensor, mode: Mode) -> (logits: Tensor, cache: Cache) {
        let (features, cache) = self.features(images, mode: mode)
        return classify(features, cache: cache)
    }

    /// images: [N, C, S, S] -> penultimate features h(x): [N, D]. Training mode updates BatchNorm statistics.
    public mutating func features(_ images: Tensor, mode: Mode) -> (features: Tensor, cache: Cache) {
        let result = featuresWithoutUpdating(images, mode: mode)
        if mode == .training {
            for b in blocks.indices { blocks[b].batchNorm.updateRunningStatistics(from: result.cache.blocks[b].normalizedPool.batchNorm) }
        }
        return result
    }

    /// Evaluation-mode forward pass (running statistics; the model is not changed).
    public func evaluated(_ images: Tensor) -> (logits: Tensor, cache: Cache) {
        let (features, cache) = featuresWithoutUpdating(images, mode: .evaluation)
        return classify(features, cache: cache)
    }

    /// Evaluation-mode logits [N, classes] without a cache: the same numbers as `evaluated(_:).logits`, to the bit (in
    /// evaluation mode every block works per image or per plane, and the classifier still sees the whole batch).
    /// Depth first: each of `threads` workers takes a contiguous share of the images and runs them through every block,
    /// `chunk` images at a time, single-threaded; so a chunk's activations stay in the worker's cache instead of the
    /// batch's going through memory block by block (at 128 px, 32 first-layer channels: 2 MiB per image against 64 MiB
    /// for a batch of 32; at 256 px and 64 images, the first convolution's output alone would be 0.5 GB).
    public func evaluatedLogits(_ images: Tensor, chunk: Int = 1) -> Tensor {
        let s = configuration.imageSize
        precondition(images.rank == 4 && Array(images.shape[1...]) == [configuration.inputChannels, s, s],
                     "CNN: images must be [N, \(configuration.inputChannels), \(s), \(s)], got \(images.shape)")
        precondition(chunk >= 1, "CNN.evaluatedLogits: chunk \(chunk) must be positive")
        let n = images.shape[0], d = configuration.featureCount
        var worker = self
        worker.threads = 1
        worker.prepareWinogradWeights()
        var features = [Float](repeating: 0, count: n * d)
        BLAS.setThreads(1)
        features.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let out = UncheckedSendable(base)
            Parallel.forEachChunk(count: n, chunks: threads) { _, share in
                var start = share.lowerBound
                while start < share.upperBound {
                    let end = Swift.min(share.upperBound, start + chunk)
                    let part = worker.evaluatedBlockFeatures(images.items(start..<end))
                    withPointer(part) { p in (out.value + start * d).update(from: p, count: (end - start) * d) }
                    start = end
                }
            }
        }
        return classifier.forward(Tensor(shape: [n, d], scalars: features)).output
    }

    /// The Winograd transform of the weight of every convolution that runs by Winograd at this configuration's image
    /// size, made once (`Conv2D.prepareWinogradWeights`) for a pass that runs the blocks many times with these weights.
    public mutating func prepareWinogradWeights() {
        let sizes = configuration.blockSizes
        for b in blocks.indices {
            blocks[b].convolution.prepareWinogradWeights(inputSize: b == 0 ? configuration.imageSize : sizes[b - 1].pooled)
        }
    }

    /// Evaluation-mode features h(x): [N, D] (the model is not changed).
    public func evaluatedFeatures(_ images: Tensor) -> (features: Tensor, cache: Cache) {
        featuresWithoutUpdating(images, mode: .evaluation)
    }

    private func classify(_ features: Tensor, cache: Cache) -> (logits: Tensor, cache: Cache) {
        let (logits, linearCache) = classifier.forward(features)
        return (logits, Cache(mode: cache.mode, blocks: cache.blocks, pooledShape: cache.pooledShape, classifier: linearCache))
    }

    private func featuresWithoutUpdating(_ images: Tensor, mode: Mode) -> (features: Tensor, cache: Cache) {
        let s = configuration.imageSize
        precondition(images.rank == 4 && Array(images.shape[1...]) == [configuration.inputChannels, s, s],
                     "CNN: images must be [N, \(configuration.inputChannels), \(s), \(s)], got \(images.shape)")
        BLAS.setThreads(1)
        return blockFeatures(images, mode: mode)
    }

    /// The blocks and Flatten (OpenBLAS already at one thread): safe to call from several workers at once.
    /// `blockFeatures(images, mode: .evaluation).features` to the bit, without caches, each block by the fused kernel
    /// that fits it (`BatchNormReLUPool.evaluatedBlock`).
    func evaluatedBlockFeatures(_ images: Tensor) -> Tensor {
        var x = images
        for block in blocks {
            x = BatchNormReLUPool.evaluatedBlock(x, convolution: block.convolution, batchNorm: block.batchNorm, threads: threads)
        }
        return Flatten.forward(x).output
    }

    private func blockFeatures(_ images: Tensor, mode: Mode) -> (features: Tensor, cache: Cache) {
        var x = images
        var caches: [Cache.BlockCache] = []
        caches.reserveCapacity(blocks.count)
        for block in blocks {
            let kernel = mode == .evaluation ? block.convolution.evaluationKernel(block.convolution.geometry(x)) : .automatic
            let (convolved, convCache) = block.convolution.forward(x, threads: threads, kernel: kernel)
            let (pooled, poolCache) = BatchNormReLUPool.forward(convolved, batchNorm: block.batchNorm, mode: mode, threads: threads)
            caches.append(Cache.BlockCache(convolution: convCache, normalizedPool: poolCache))
            x = pooled
        }
        let (flat, pooledShape) = Flatten.forward(x)
        return (flat, Cache(mode: mode, blocks: caches, pooledShape: pooledShape, classifier: nil))
    }

    // MARK: Backward

    /// dlogits: [N, classes] -> parameter gradients (fresh, zero-initialised, then accumulated) and
    /// the input gradient [N, C, S, S].
    public func backward(dlogits: Tensor, cache: Cache) -> (gradients: CNNGradients, inputGradient: Tensor) {
        var gradients = CNNGradients(zerosLike: self)
        let input = backward(dlogits: dlogits, cache: cache, gradients: &gradients, inputGradient: true)
        return (gradients, input ?? Tensor(zeros: [0]))
    }

    /// As `backward`, without the input gradient (saves the first layer's input-gradient pass when training).
    public func parameterGradients(dlogits: Tensor, cache: Cache) -> CNNGradients {
        var gradients = CNNGradients(zerosLike: self)
        _ = backward(dlogits: dlogits, cache: cache, gradients: &gradients, inputGradient: false)
        return gradients
    }

    /// Adds the parameter gradients of `dlogits` into `gradients` (e.g. over several batches);
    /// returns the input gradient when asked.
    public func backward(dlogits: Tensor, cache: Cache, gradients: inout CNNGradients, inputGradient: Bool) -> Tensor? {
        guard let linearCache = cache.classifier else {
            preconditionFailure("CNN.backward(dlogits:): the cache comes from `features`, use backwardFromFeatures")
        }
        let dfeatures = classifier.backward(dout: dlogits, cache: linearCache,
                                            dweight: &gradients.classifier.weight, dbias: &gradients.classifier.bias)
        return backwardBlocks(dfeatures: dfeatures, cache: cache, gradients: &gradients, parameters: true, inputGradient: inputGradient)
    }

    /// dfeatures: [N, D] given at h(x) -> gradient with respect to the images [N, C, S, S], through
    /// BatchNorm in the mode of the forward pass. No parameter gradients are formed.
    public func backwardFromFeatures(dfeatures: Tensor, cache: Cache) -> Tensor {
        var unused = CNNGradients(zerosLike: self)
        return backwardBlocks(dfeatures: dfeatures, cache: cache, gradients: &unused, parameters: false, inputGradient: true)
            ?? Tensor(zeros: [0])
    }

    private func backwardBlocks(dfeatures: Tensor, cache: Cache, gradients: inout CNNGradients,
                                parameters: Bool, inputGradient: Bool) -> Tensor? {
        precondition(cache.blocks.count == blocks.count, "CNN.backward: cache has \(cache.blocks.count) blocks, model \(blocks.count)")
        precondition(dfeatures.rank == 2 && dfeatures.shape[1] == configuration.featureCount
                     && dfeatures.shape[0] == cache.pooledShape[0],
                     "CNN.backward: dfeatures must be [\(cache.pooledShape[0]), \(configuration.featureCount)], got \(dfeatures.shape)")
        BLAS.setThreads(1)
        var dx = Flatten.backward(dout: dfeatures, inputShape: cache.pooledShape)
        for b in blocks.indices.reversed() {
            let block = blocks[b], c = cache.blocks[b]
            let needsInput = b > 0 || inputGradient
            if parameters && !needsInput {
                // The first block when training: its convolution's dout is formed one image at a time, as the weight
                // gradient's sums reach it (the same numbers; the batch's first-layer dout is never in memory).
                let (dgamma, dbeta) = BatchNormReLUPool.parameterGradients(dout: dx, cache: c.normalizedPool, threads: threads)
                for ch in 0..<dgamma.count {
                    gradients.blocks[b].batchNorm.weight.scalars[ch] += dgamma[ch]
                    gradients.blocks[b].batchNorm.bias.scalars[ch] += dbeta[ch]
                }
                let channels = block.batchNorm.channels, pooled = dx
                var g = LayerGradients(weight: Tensor(zeros: [0]), bias: Tensor(zeros: [0]))
                swap(&g, &gradients.blocks[b].convolution)
                defer { swap(&g, &gradients.blocks[b].convolution) }
                block.convolution.accumulateParameterGradients(
                    doutOfImage: { i, buffer in
                        BatchNormReLUPool.inputGradient(planes: (i * channels)..<((i + 1) * channels), dout: pooled, cache: c.normalizedPool,
                                                        batchNorm: block.batchNorm, dweight: dgamma, dbias: dbeta, into: buffer)
                    },
                    cache: c.convolution, dweight: &g.weight, dbias: &g.bias, threads: threads)
                return nil
            }
            let (dconvolved, dgamma, dbeta) = BatchNormReLUPool.backward(dout: dx, cache: c.normalizedPool,
                                                                         batchNorm: block.batchNorm, threads: threads)
            if parameters {
                for ch in 0..<dgamma.count {
                    gradients.blocks[b].batchNorm.weight.scalars[ch] += dgamma[ch]
                    gradients.blocks[b].batchNorm.bias.scalars[ch] += dbeta[ch]
                }
                // Take the gradient tensors out (keeps them uniquely referenced, so updates stay in place).
                var g = LayerGradients(weight: Tensor(zeros: [0]), bias: Tensor(zeros: [0]))
                swap(&g, &gradients.blocks[b].convolution)
                defer { swap(&g, &gradients.blocks[b].convolution) }
                dx = block.convolution.backward(dout: dconvolved, cache: c.convolution, dweight: &g.weight,
                                                dbias: &g.bias, threads: threads)
            } else {
                dx = block.convolution.inputGradient(dout: dconvolved, cache: c.convolution, threads: threads)
            }
        }
        return dx
    }
}
