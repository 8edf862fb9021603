import CKernels
import Tensor

/// The shape of a 2-D U-Net (Ronneberger et al. 2015) as CSBDeep builds it for Noise2Void
/// (Krull, Buchholz and Jug 2019; the N2V reference's defaults: depth 2, 32 base filters, 3x3 kernels,
/// batch norm, two convolutions per level, no residual connection).
public struct UNetConfiguration: Codable, Sendable, Equatable {
    /// Pooling levels (2 in N2V).
    public var depth: Int = 2
    /// Channels of the first level; level l has firstChannels * 2^l (32 in N2V).
    public var firstChannels: Int = 32
    public var inputChannels: Int = 1
    public var outputChannels: Int = 1
    /// Odd side of the `same` convolutions (3 in N2V).
    public var kernelSize: Int = 3
    /// Adds the input to the output (CSBDeep's `residual`; off in N2V).
    public var residual: Bool = false

    public init(depth: Int = 2, firstChannels: Int = 32, inputChannels: Int = 1, outputChannels: Int = 1,
                kernelSize: Int = 3, residual: Bool = false) {
        self.depth = depth
        self.firstChannels = firstChannels
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.residual = residual
    }

    /// (input, output) channels of the 3x3 blocks in order: down levels, middle, up levels (CSBDeep's
    /// `unet_block`). With f = firstChannels and D = depth:
    ///   down l:  in -> f 2^l, f 2^l -> f 2^l;   middle: f 2^(D-1) -> f 2^D -> f 2^(D-1);
    ///   up l (D-1 ... 0): [upsampled, skip] 2 f 2^l -> f 2^l -> f 2^max(0, l-1);   then a 1x1 conv -> out.
    public var blockChannels: [(input: Int, output: Int)] {
        let f = firstChannels
        func width(_ level: Int) -> Int { f << Swift.max(0, level) }
        var plan: [(input: Int, output: Int)] = []
        var c = inputChannels
        for l in 0..<depth {
            plan.append((c, width(l)))
            plan.append((width(l), width(l)))
            c = width(l)
        }
        plan.append((c, width(depth)))
        plan.append((width(depth), width(depth - 1)))
        for l in (0..<depth).reversed() {
            plan.append((2 * width(l), width(l)))
            plan.append((width(l), width(l - 1)))
        }
        return plan
    }

    /// The convolution weights (BatchNorm and biases aside), the final 1x1 included; nil beyond Int's range.
    /// Meaningful once `validate()` passed.
    public var weightCount: Int? {
        NetworkSize.weightCount(blockChannels.map { (input: $0.input, output: $0.output, kernel: kernelSize) }
                                + [(input: firstChannels, output: outputChannels, kernel: 1)])
    }

    public func validate() throws(UNetConfigurationError) {
        guard depth >= 1 else { throw .invalid("U-Net depth must be at least 1 (got \(depth))") }
        guard firstChannels >= 1 && inputChannels >= 1 && outputChannels >= 1 else {
            throw .invalid("U-Net channels must be positive (first \(firstChannels), in \(inputChannels), out \(outputChannels))")
        }
        guard kernelSize >= 1 && kernelSize % 2 == 1 else { throw .invalid("U-Net kernel size must be odd (got \(kernelSize))") }
        guard !residual || inputChannels == outputChannels else {
            throw .invalid("a residual U-Net needs as many output as input channels (\(outputChannels) vs \(inputChannels))")
        }
        // Bounds that keep `blockChannels` within Int (f 2^D doubled) before the weights are counted.
        guard depth <= 16, firstChannels <= 1 << 20 else {
            throw .invalid("U-Net depth must be at most 16 and first-level channels at most \(1 << 20) (got \(depth), \(firstChannels))")
        }
        guard let weights = weightCount, weights <= NetworkSize.maximumWeights else {
            throw .invalid("the U-Net would have more than \(NetworkSize.maximumWeights) weights: lower its depth, channels or kernel size")
        }
    }

    /// The smallest image side the network takes: every level pools by 2 (floor).
    public var minimumSide: Int { 1 << depth }
}

public enum UNetConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let text): return text }
    }
}

/// A 2-D U-Net denoiser: per level two [Conv2D(3x3, same) -> BatchNorm2D -> ReLU] blocks, 2x2 max pooling
/// down (floor on odd sides), nearest 2x upsampling back to the skip's exact size, concatenation
/// [upsampled, skip] on channels, two blocks, and a final 1x1 Conv2D (linear). Fully convolutional:
/// any H, W >= 2^depth, odd sizes included (output H x W, as the input).
///
/// x: [N, inputChannels, H, W] -> y: [N, outputChannels, H, W]. As with the CNN, a training pass uses
/// batch statistics and updates BatchNorm's running averages (`forward` is mutating); `evaluated` does not.
public struct UNet: Sendable {
    /// A convolution and its BatchNorm: the CNN's block type.
    public typealias Block = CNN.Block

    public let configuration: UNetConfiguration
    /// In `configuration.blockChannels` order.
    public var blocks: [Block]
    /// The final 1x1 convolution.
    public var output: Conv2D
    public var threads: Int

    /// Convolutions initialised as PyTorch's `nn.Conv2d` (see `Conv2D`), in block order, then the output layer.
    public init(configuration: UNetConfiguration, generator: inout SeededGenerator, threads: Int = 1) throws(UNetConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.threads = Swift.max(1, threads)
        blocks = configuration.blockChannels.map { plan in
            Block(convolution: Conv2D(inputChannels: plan.input, outputChannels: plan.output, kernelSize: configuration.kernelSize,
                                      padding: .same, generator: &generator),
                  batchNorm: BatchNorm2D(channels: plan.output))
        }
        output = Conv2D(inputChannels: configuration.firstChannels, outputChannels: configuration.outputChannels,
                        kernelSize: 1, padding: .valid, generator: &generator)
    }

    public struct Cache: Sendable {
        public let mode: Mode
        struct BlockCache: Sendable {
            let convolution: Conv2D.Cache
            let batchNorm: BatchNorm2D.Cache
            let relu: ReLU.Cache
        }
        let blocks: [BlockCache]
        let pools: [MaxPool2D.Cache]
        let upsamples: [Upsample2D.Cache]
        let output: Conv2D.Cache
    }

    // MARK: Forward

    /// x: [N, C, H, W] -> y: [N, outputChannels, H, W]. Training mode updates BatchNorm's running statistics.
    public mutating func forward(_ input: Tensor, mode: Mode) -> (output: Tensor, cache: Cache) {
        let result = forwardWithoutUpdating(input, mode: mode)
        if mode == .training {
            for b in blocks.indices { blocks[b].batchNorm.updateRunningStatistics(from: result.cache.blocks[b].batchNorm) }
        }
        return result
    }

    /// Evaluation-mode pass (running statistics; the model is not changed).
    public func evaluated(_ input: Tensor) -> Tensor {
        forwardWithoutUpdating(input, mode: .evaluation).output
    }

    /// The forward pass in `mode` without touching the running statistics.
    public func forwardWithoutUpdating(_ input: Tensor, mode: Mode) -> (output: Tensor, cache: Cache) {
        BLAS.setThreads(1)
        return layers(input, mode: mode)
    }

    /// The U-Net's wiring, the one place it is written, with its steps given: `depth` levels down (two blocks, the
    /// skip kept, `pool`), two bottom blocks, `depth` levels up (`upsample` to the skip's H x W, concatenated with it, two
    /// blocks), `output`, and the residual. Blocks are numbered as `blocks` and called in that order. input: [N, C, H, W].
    func wired(_ input: Tensor, block: (Int, Tensor) -> Tensor, pool: (Tensor) -> Tensor,
               upsample: (_ x: Tensor, _ height: Int, _ width: Int) -> Tensor, output: (Tensor) -> Tensor) -> Tensor {
        let d = configuration.depth
        precondition(input.rank == 4 && input.shape[1] == configuration.inputChannels
                     && input.shape[2] >= configuration.minimumSide && input.shape[3] >= configuration.minimumSide,
                     "UNet: input must be [N, \(configuration.inputChannels), H, W] with H, W >= \(configuration.minimumSide), got \(input.shape)")
        var skips: [Tensor] = []
        var x = input
        for l in 0..<d {
            x = block(2 * l + 1, block(2 * l, x))
            skips.append(x)
            x = pool(x)
        }
        x = block(2 * d + 1, block(2 * d, x))
        for l in (0..<d).reversed() {
            let skip = skips[l]
            x = Concatenate.forward(upsample(x, skip.shape[2], skip.shape[3]), skip)
            let b = 2 * d + 2 + 2 * (d - 1 - l)
            x = block(b + 1, block(b, x))
        }
        var y = output(x)
        if configuration.residual { y.add(input) }
        return y
    }

    /// The whole network (OpenBLAS already at one thread), with the caches backward needs: safe to call from several
    /// workers at once.
    func layers(_ input: Tensor, mode: Mode) -> (output: Tensor, cache: Cache) {
        var caches: [Cache.BlockCache] = []
        var pools: [MaxPool2D.Cache] = [], upsamples: [Upsample2D.Cache] = []
        var outputCache: Conv2D.Cache?
        let y = wired(input, block: { b, x in
            let (convolved, convCache) = blocks[b].convolution.forward(x, threads: threads)
            let (normalized, bnCache) = blocks[b].batchNorm.normalized(convolved, mode: mode, threads: threads)
            let (activated, reluCache) = ReLU.forward(normalized, threads: threads)
            caches.append(Cache.BlockCache(convolution: convCache, batchNorm: bnCache, relu: reluCache))
            return activated
        }, pool: { x in
            let (pooled, poolCache) = MaxPool2D.forward(x, threads: threads)
            pools.append(poolCache)
            return pooled
        }, upsample: { x, height, width in
            let (up, upCache) = Upsample2D.forward(x, height: height, width: width, threads: threads)
            upsamples.append(upCache)
            return up
        }, output: { x in
            let (y, cache) = output.forward(x, threads: threads)
            outputCache = cache
            return y
        })
        guard let outputCache else { preconditionFailure("UNet.wired did not call its output layer") }
        return (y, Cache(mode: mode, blocks: caches, pools: pools, upsamples: upsamples, output: outputCache))
    }

    /// `layers(input, mode: .evaluation).output` to the bit, without what only backward needs: each block's
    /// BatchNorm and ReLU as one pass in place over the convolution's output (the same float operations,
    /// max(x * scale + shift, 0)), the pooling without its winners, no caches; with prepared Winograd weights
    /// (`prepareWinogradWeights`) the transforms are made once. The evaluation passes (`evaluatedInBatches`) run this.
    func evaluatedLayers(_ input: Tensor) -> Tensor {
        wired(input, block: { b, x in
            blocks[b].batchNorm.normalizedWithReLUInPlace(blocks[b].convolution.forward(x, threads: threads).output, threads: threads)
        }, pool: { UNet.pooledActivations($0, threads: threads) },
        upsample: { Upsample2D.forward($0, height: $1, width: $2, threads: threads).output },
        output: { output.forward($0, threads: threads).output })
    }

    /// `MaxPool2D.forward(x).output` for ReLU outputs x (every value +0, positive or NaN; ReLU leaves no -0), by the C
    /// kernel of the fused BatchNorm-ReLU-pool (`bn_relu_pool_forward`) with the identity map: v * 1 + 0 is v for such
    /// values, its ReLU changes none, and it keeps the first of equal values as `MaxPool2D` does. (The Swift loop took
    /// a tenth of the U-Net's evaluation.)
    static func pooledActivations(_ x: Tensor, threads: Int, isa: KernelISA = .active) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] >= 2 && x.shape[3] >= 2, "UNet: pooled input must be [N, C, H >= 2, W >= 2], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], hwo = (h / 2) * (w / 2)
        let kernels = isa.kernels
        return makeTensor(shape: [x.shape[0], x.shape[1], h / 2, w / 2]) { y in
            withPointer(x) { src in
                Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                    let winners = UnsafeMutablePointer<UInt8>.allocate(capacity: hwo)
                    defer { winners.deallocate() }
                    for plane in range { kernels.bn_relu_pool_forward(src + plane * h * w, h, w, 1, 0, y + plane * hwo, winners) }
                }
            }
        }
    }

    /// Every convolution's Winograd transform of its weight, made once (`Conv2D.prepareWinogradWeights`).
    public mutating func prepareWinogradWeights() {
        for b in blocks.indices { blocks[b].convolution.prepareWinogradWeights() }
    }

    // MARK: Backward

    /// dout: [N, outputChannels, H, W]. Adds the parameter gradients into `gradients`; returns din [N, C, H, W].
    public func backward(dout: Tensor, cache: Cache, gradients: inout UNetGradients) -> Tensor {
        let d = configuration.depth
        precondition(cache.blocks.count == blocks.count && gradients.blocks.count == blocks.count,
                     "UNet.backward: \(cache.blocks.count) cached blocks and \(gradients.blocks.count) gradient blocks for \(blocks.count) blocks")
        BLAS.setThreads(1)
        var dx = output.backward(dout: dout, cache: cache.output, dweight: &gradients.output.weight,
                                 dbias: &gradients.output.bias, threads: threads)
        func block(_ b: Int) {
            let c = cache.blocks[b]
            // Take the block's gradients out (keeps them uniquely referenced, so updates stay in place).
            var g = UNetGradients.Block(convolution: .empty, batchNorm: .empty)
            swap(&g, &gradients.blocks[b])
            defer { swap(&g, &gradients.blocks[b]) }
            let drelu = ReLU.backward(dout: dx, cache: c.relu, threads: threads)
            let dconv = blocks[b].batchNorm.backward(dout: drelu, cache: c.batchNorm, dweight: &g.batchNorm.weight,
                                                     dbias: &g.batchNorm.bias, threads: threads)
            dx = blocks[b].convolution.backward(dout: dconv, cache: c.convolution, dweight: &g.convolution.weight,
                                                dbias: &g.convolution.bias, threads: threads)
        }
        // Up levels ran for l = d-1 ... 0 (upsample cache k belongs to l = d-1-k); undo them for l = 0 ... d-1.
        var dskips = [Tensor](repeating: Tensor(zeros: [0]), count: d)
        for l in 0..<d {
            let b = 2 * d + 2 + 2 * (d - 1 - l)
            block(b + 1)
            block(b)
            let upChannels = blocks[b].convolution.inputChannels - blocks[2 * l + 1].batchNorm.channels
            let (dup, dskip) = Concatenate.backward(dout: dx, firstChannels: upChannels)
            dskips[l] = dskip
            dx = Upsample2D.backward(dout: dup, cache: cache.upsamples[d - 1 - l], threads: threads)
        }
        block(2 * d + 1)
        block(2 * d)
        for l in (0..<d).reversed() {
            dx = MaxPool2D.backward(dout: dx, cache: cache.pools[l], threads: threads)
            dx.add(dskips[l])
            block(2 * l + 1)
            block(2 * l)
        }
        if configuration.residual { dx.add(dout) }
        return dx
    }
}
