import CKernels
import Tensor

/// Population BatchNorm statistics for fixed weights ("precise BN", Wu and Johnson 2021, "Rethinking
/// 'Batch' in BatchNorm", section 3), computed exactly rather than as running averages.
///
/// For block b, the population mean and (biased) variance of channel c are taken over every value the
/// convolution of block b produces for the given images, when every earlier block normalises with its
/// own recomputed population statistics, i.e. exactly what the evaluation-mode network meets:
///     mu_b,c  = (1 / M) sum x_b,c,        var_b,c = (1 / M) sum (x_b,c - mu_b,c)^2,   M = N H_b W_b.
/// Per output plane (one image, one channel) the C kernels form the plane's sum and its squared deviations about the
/// plane's own mean, while the plane is still in cache; the planes are then combined in image order, in Double, by
/// Chan, Golub and LeVeque's pairwise update (a cumulative average). So no batch's convolution output is ever held
/// (at 128 px that had been 128 MiB a batch of 64, its first touch a third of the pass), and the result depends on
/// neither the thread count nor how many images a worker convolves at once (`chunk`).
///
/// Block by block, one convolution pass per block, depth first over images: each worker takes whole chunks of
/// images through the earlier blocks (evaluation mode, with the statistics just found) and block b's convolution.
/// Block b's evaluation-mode output (BatchNorm, ReLU, max-pool) follows from one extreme of each 2x2 window of its
/// convolution's output once its statistics are known (`normalisedInPlace`): the maximum where gamma >= 0, the
/// minimum where gamma < 0 (the sign of the BatchNorm scale gamma / sqrt(var + eps) whenever the variance is
/// finite). That extreme is kept for all N images when it fits in `carryBudget` bytes (at 256 px, the second block's
/// 32 channels: N x 0.5 MiB), and normalised chunk by chunk into the next block's input; a block whose output does not
/// fit is recomputed per chunk by the next blocks from the last kept input. The first block's output is recomputed
/// by the fused first-layer kernel (`BatchNormReLUPool.evaluatedDirect`) rather than kept: measured cheaper than
/// the kernel's first touch of the pages it would fill (at 128 px, 512 images: 256 MiB, 0.35 s of page clearing). The reference,
/// `referencePreciseStatistics` (whole batches, both extremes of every block kept), gives the same statistics to
/// within float rounding (tested); it also serves the degenerate case of a non-finite variance.
extension CNN {
    /// Bytes of one block's output the precise pass holds for all images (see the extension's comment).
    public static let preciseCarryBudget = 256 << 20

    /// Per block, the population (mean, biased variance) of the convolution's output per channel: [C_b] each.
    /// images: [N, inputChannels, S, S], N >= 1. `chunk`: images a worker convolves at once (nil: as many as keep a
    /// block's output near 2 MiB, at most 16); it changes no number.
    public func preciseStatistics(over images: Tensor, chunk: Int? = nil, carryBudget: Int = CNN.preciseCarryBudget,
                                  isa: KernelISA = .active) -> [(mean: [Float], variance: [Float])] {
        let s = configuration.imageSize
        precondition(images.rank == 4 && images.shape[0] >= 1 && Array(images.shape[1...]) == [configuration.inputChannels, s, s],
                     "CNN.preciseStatistics: images must be [N >= 1, \(configuration.inputChannels), \(s), \(s)], got \(images.shape)")
        precondition(chunk.map { $0 >= 1 } ?? true, "CNN.preciseStatistics: chunk \(chunk ?? 0)")
        BLAS.setThreads(1)
        var model = self
        model.prepareWinogradWeights()
        // `source` is the input of block `sourceBlock` for every image: the images, or the selected window extremes of the
        // last block kept, `sourceBlock - 1`, normalised per chunk as it is read (`planeMoments`).
        var source = images, sourceBlock = 0
        var result: [(mean: [Float], variance: [Float])] = []
        let n = images.shape[0], sizes = configuration.blockSizes
        for b in blocks.indices {
            let channels = blocks[b].batchNorm.channels, side = sizes[b].convolution
            let pooledShape = [n, channels, side / 2, side / 2], perImage = pooledShape[1...].reduce(1, *)
            // The first block's output is recomputed from the images, not kept, when the fused first-layer kernel can
            // (one input channel): at 128 px that costs less than the first touch of the 256 MiB it would keep for 512 images.
            let recomputedCheaply = b == 0 && blocks[0].convolution.inputChannels == 1
            let keeps = b + 1 < blocks.count && !recomputedCheaply && n * perImage * MemoryLayout<Float>.size <= carryBudget
            // Every element is written by `planeMoments` (the workers touch their own images' pages first).
            var kept = [Float](unsafeUninitializedCapacity: keeps ? n * perImage : 0) { _, count in count = keeps ? n * perImage : 0 }
            let perChunk = chunk ?? Swift.max(1, Swift.min(16, (1 << 19) / Swift.max(1, channels * side * side)))
            let moments = kept.withUnsafeMutableBufferPointer {
                model.planeMoments(b, from: source, block: sourceBlock, chunk: perChunk, keeping: keeps ? $0.baseAddress : nil, isa: isa)
            }
            var population = PopulationMoments(channels: channels)
            for i in 0..<n { population.merge(planes: moments, image: i, count: Double(side * side)) }
            let statistics = population.statistics
            // A non-finite variance can give a scale whose sign is not gamma's: the kept extremes may be the wrong ones.
            guard statistics.variance.allSatisfy(\.isFinite) else {
                return referencePreciseStatistics(over: images)
            }
            result.append(statistics)
            model.blocks[b].batchNorm.runningMean = Tensor(shape: [channels], scalars: statistics.mean)
            model.blocks[b].batchNorm.runningVar = Tensor(shape: [channels], scalars: statistics.variance)
            if keeps {
                source = Tensor(shape: pooledShape, scalars: kept)
                sourceBlock = b + 1
            }
        }
        return result
    }

    /// Per image i and channel c of block b's convolution output: the plane's float sum and its squared deviations
    /// about the plane's float mean, [N * C] each (`kernels.sum`, `kernels.centred_squares`), and with `keeping`, the
    /// selected extreme of every 2x2 window (maxima where gamma >= 0) into `keeping`: [N, C, H / 2, W / 2]; each plane
    /// read while it is in cache. Block b's input: `source` itself when `block` is 0, else the selected extremes of
    /// block `block - 1` in `source`, normalised (`normalisedInPlace`, evaluation mode) chunk by chunk; then blocks
    /// `block..<b` in evaluation mode. Chunks of `chunk` images are dealt to `threads` workers, each single-threaded,
    /// so no number depends on the thread count.
    func planeMoments(_ b: Int, from source: Tensor, block: Int, chunk: Int, keeping: UnsafeMutablePointer<Float>?,
                      isa: KernelISA) -> (sums: [Float], squares: [Float]) {
        let n = source.shape[0], c = blocks[b].batchNorm.channels, kernels = isa.kernels
        let side = configuration.blockSizes[b].convolution, hw = side * side, hwo = (side / 2) * (side / 2)
        let useMaxima = blocks[b].batchNorm.weight.scalars.map { $0 >= 0 }
        var worker = self
        worker.threads = 1
        var sums = [Float](repeating: 0, count: n * c), squares = sums
        let kept = keeping.map(UncheckedSendable.init)
        sums.withUnsafeMutableBufferPointer { sumBuffer in
            squares.withUnsafeMutableBufferPointer { squareBuffer in
                guard let sumBase = sumBuffer.baseAddress, let squareBase = squareBuffer.baseAddress else { return }
                let (planeSums, planeSquares) = (UncheckedSendable(sumBase), UncheckedSendable(squareBase))
                let chunks = (n + chunk - 1) / chunk
                Parallel.forEachChunk(count: chunks, chunks: threads) { _, share in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(hwo, 1))
                    defer { scratch.deallocate() }
                    for k in share {
                        let images = (k * chunk)..<Swift.min(n, (k + 1) * chunk)
                        var input = source.items(images)
                        if block > 0 { Self.normalisedInPlace(&input.scalars, shape: input.shape, batchNorm: worker.blocks[block - 1].batchNorm) }
                        let convolved = worker.blocks[b].convolution.forward(worker.pooledBlockOutputs(block..<b, input, chunk: images.count),
                                                                             threads: 1).output
                        withPointer(convolved) { x in
                            for plane in 0..<(images.count * c) {
                                let p = x + plane * hw, at = images.lowerBound * c + plane
                                let total = kernels.sum(p, hw)
                                planeSums.value[at] = total
                                planeSquares.value[at] = kernels.centred_squares(p, hw, Float(Double(total) / Double(hw)))
                                guard let kept else { continue }
                                let out = kept.value + at * hwo
                                if useMaxima[plane % c] {
                                    kernels.window_extremes(p, side, side, out, scratch)
                                } else {
                                    kernels.window_extremes(p, side, side, scratch, out)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (sums, squares)
    }

    /// Blocks `range` in evaluation mode on x, `chunk` images at a time (`pooledBlockOutput`; per image, so the chunk
    /// changes no number, only how much of the first block's large output is in memory at once).
    func pooledBlockOutputs(_ range: Range<Int>, _ x: Tensor, chunk: Int = 8) -> Tensor {
        guard !range.isEmpty else { return x }
        var outputs: [Tensor] = []
        var start = 0
        while start < x.shape[0] {
            let end = Swift.min(x.shape[0], start + chunk)
            var y = x.items(start..<end)
            for j in range { y = pooledBlockOutput(j, y) }
            outputs.append(y)
            start = end
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concatenated(outputs)
    }

    /// Block j's evaluation-mode output (BatchNorm with its running statistics, ReLU, max-pool) for input x: from
    /// the selected window extremes of its convolution, exactly as the precise pass carries a kept block.
    func pooledBlockOutput(_ j: Int, _ x: Tensor) -> Tensor {
        if blocks[j].convolution.inputChannels == 1 {  // the same bytes, with the first layer's output kept in registers
            return BatchNormReLUPool.evaluatedDirect(x, convolution: blocks[j].convolution, batchNorm: blocks[j].batchNorm,
                                                     threads: threads)
        }
        let convolved = blocks[j].convolution.forward(x, threads: threads).output
        let bn = blocks[j].batchNorm
        let shape = [convolved.shape[0], convolved.shape[1], convolved.shape[2] / 2, convolved.shape[3] / 2]
        var pooled = [Float](repeating: 0, count: shape.reduce(1, *))
        pooled.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            Self.selectedWindowExtremes(convolved, maxima: bn.weight.scalars.map { $0 >= 0 }, into: base, threads: threads)
        }
        Self.normalisedInPlace(&pooled, shape: shape, batchNorm: bn)
        return Tensor(shape: shape, scalars: pooled)
    }

    /// Per 2x2 window of x: [N, C, H, W], the maximum where `maxima[c]`, else the minimum: [N, C, H / 2, W / 2] written
    /// to `out` (the C kernel `window_extremes`, the other extreme going to a per-thread scratch plane).
    static func selectedWindowExtremes(_ x: Tensor, maxima: [Bool], into out: UnsafeMutablePointer<Float>,
                                       threads: Int = 1, isa: KernelISA = .active) {
        let c = x.shape[1], planes = x.shape[0] * c, h = x.shape[2], w = x.shape[3], hwo = (h / 2) * (w / 2)
        precondition(maxima.count == c, "CNN.selectedWindowExtremes: \(maxima.count) choices for \(c) channels")
        let kernels = isa.kernels
        let target = UncheckedSendable(out)
        withPointer(x) { src in
            Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(hwo, 1))
                defer { scratch.deallocate() }
                for plane in range {
                    let kept = target.value + plane * hwo
                    if maxima[plane % c] {
                        kernels.window_extremes(src + plane * h * w, h, w, kept, scratch)
                    } else {
                        kernels.window_extremes(src + plane * h * w, h, w, scratch, kept)
                    }
                }
            }
        }
    }

    /// BatchNorm (evaluation mode, `batchNorm`'s running statistics) and ReLU applied in place to the selected window
    /// extremes [N, C, H / 2, W / 2] (`selectedWindowExtremes` with maxima where gamma >= 0): the fused
    /// BatchNorm-ReLU-max-pool's output, with `pooledAfterNormalising`'s float operations (see there why it is exact).
    static func normalisedInPlace(_ values: inout [Float], shape: [Int], batchNorm: BatchNorm2D) {
        let c = shape[1], area = shape[2] * shape[3]
        let (scale, shift) = batchNorm.evaluationScaleAndShift
        values.withUnsafeMutableBufferPointer { v in
            for plane in 0..<(shape[0] * c) {
                let ch = plane % c
                for k in (plane * area)..<((plane + 1) * area) { v[k] = Swift.max(v[k] * scale[ch] + shift[ch], 0) }
            }
        }
    }

    /// The precise pass as first written, the reference: every block's convolution once, both extremes of every
    /// window of every block output held for all images, then normalised (`pooledAfterNormalising`).
    func referencePreciseStatistics(over images: Tensor, batchSize: Int = 64) -> [(mean: [Float], variance: [Float])] {
        BLAS.setThreads(1)
        var model = self
        var current = images
        var result: [(mean: [Float], variance: [Float])] = []
        let n = images.shape[0]
        for b in blocks.indices {
            let channels = blocks[b].batchNorm.channels
            let carryOn = b + 1 < blocks.count
            var moments = PopulationMoments(channels: channels)
            var maxima: [Float] = [], minima: [Float] = []
            var pooledShape: [Int] = []
            var start = 0
            while start < n {
                let end = Swift.min(n, start + batchSize)
                let convolved = model.blocks[b].convolution.forward(current.items(start..<end), threads: threads).output
                let batch = model.blocks[b].batchNorm.statistics(convolved, mode: .training, threads: threads)
                moments.merge(mean: batch.mean, variance: batch.variance, count: Double(convolved.count / channels))
                if carryOn {
                    let (high, low) = Self.windowExtremes(convolved, threads: threads)
                    if maxima.isEmpty { pooledShape = [n, channels, convolved.shape[2] / 2, convolved.shape[3] / 2] }
                    maxima += high
                    minima += low
                }
                start = end
            }
            let statistics = moments.statistics
            result.append(statistics)
            model.blocks[b].batchNorm.runningMean = Tensor(shape: [channels], scalars: statistics.mean)
            model.blocks[b].batchNorm.runningVar = Tensor(shape: [channels], scalars: statistics.variance)
            guard carryOn else { break }
            current = Self.pooledAfterNormalising(maxima: maxima, minima: minima, shape: pooledShape, batchNorm: model.blocks[b].batchNorm)
        }
        return result
    }

    /// Per 2x2 window (stride 2, a last odd row or column dropped, as `BatchNormReLUPool`), the maximum and the
    /// minimum of x: [N, C, H, W] -> two [N, C, H / 2, W / 2] arrays, flattened; per plane the C kernel of `isa`
    /// (`window_extremes`), whose reference is `naiveWindowExtremes`.
    static func windowExtremes(_ x: Tensor, threads: Int = 1, isa: KernelISA = .active) -> (maxima: [Float], minima: [Float]) {
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], hwo = (h / 2) * (w / 2)
        let kernels = isa.kernels
        var maxima = [Float](repeating: 0, count: planes * hwo), minima = maxima
        withPointer(x) { src in
            maxima.withUnsafeMutableBufferPointer { high in
                minima.withUnsafeMutableBufferPointer { low in
                    guard let hp = high.baseAddress, let lp = low.baseAddress else { return }
                    Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                        for plane in range { kernels.window_extremes(src + plane * h * w, h, w, hp + plane * hwo, lp + plane * hwo) }
                    }
                }
            }
        }
        return (maxima, minima)
    }

    /// `windowExtremes` one window at a time, with Swift's max and min: the reference.
    static func naiveWindowExtremes(_ x: Tensor) -> (maxima: [Float], minima: [Float]) {
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3], ho = h / 2, wo = w / 2
        var maxima = [Float](repeating: 0, count: planes * ho * wo), minima = maxima
        x.scalars.withUnsafeBufferPointer { src in
            for plane in 0..<planes {
                for oy in 0..<ho {
                    let r0 = plane * h * w + 2 * oy * w, r1 = r0 + w, o = (plane * ho + oy) * wo
                    for ox in 0..<wo {
                        let a = src[r0 + 2 * ox], b = src[r0 + 2 * ox + 1], c = src[r1 + 2 * ox], d = src[r1 + 2 * ox + 1]
                        maxima[o + ox] = Swift.max(Swift.max(a, b), Swift.max(c, d))
                        minima[o + ox] = Swift.min(Swift.min(a, b), Swift.min(c, d))
                    }
                }
            }
        }
        return (maxima, minima)
    }

    /// BatchNorm (evaluation mode, with `batchNorm`'s running statistics), ReLU and 2x2 max-pool, from the windows'
    /// extremes of the BatchNorm's input: [N, C, H / 2, W / 2]. Exactly `BatchNormReLUPool.forward`'s output, since
    /// v -> max(fl(fl(v s) + t), 0) is monotone in v (non-decreasing for s >= 0, non-increasing for s < 0) and
    /// monotone maps commute with the maximum: the window's maximum of the mapped values is the map of the
    /// window's maximum (s >= 0) or minimum (s < 0). Same s = gamma / sqrt(var + eps), t = beta - mean s, same
    /// float operations.
    static func pooledAfterNormalising(maxima: [Float], minima: [Float], shape: [Int], batchNorm: BatchNorm2D) -> Tensor {
        let c = shape[1], area = shape[2] * shape[3]
        var output = [Float](repeating: 0, count: maxima.count)
        let gamma = batchNorm.weight.scalars, beta = batchNorm.bias.scalars
        let mean = batchNorm.runningMean.scalars, variance = batchNorm.runningVar.scalars
        for plane in 0..<(shape[0] * c) {
            let ch = plane % c
            let inverseStd = 1 / (variance[ch] + batchNorm.epsilon).squareRoot()
            let scale = gamma[ch] * inverseStd, shift = beta[ch] - mean[ch] * scale
            let source = scale >= 0 ? maxima : minima
            for k in (plane * area)..<((plane + 1) * area) {
                output[k] = Swift.max(source[k] * scale + shift, 0)
            }
        }
        return Tensor(shape: shape, scalars: output)
    }

    /// This model with every BatchNorm layer's running statistics replaced by `statistics` (one [C_b] mean
    /// and variance per block, e.g. from `preciseStatistics`). The weights are unchanged.
    public func withStatistics(_ statistics: [(mean: [Float], variance: [Float])]) -> CNN {
        precondition(statistics.count == blocks.count, "CNN.withStatistics: \(statistics.count) layers of statistics for \(blocks.count) blocks")
        var model = self
        for b in blocks.indices {
            let c = blocks[b].batchNorm.channels
            precondition(statistics[b].mean.count == c && statistics[b].variance.count == c,
                         "CNN.withStatistics: block \(b) needs \(c) channels, got \(statistics[b].mean.count) and \(statistics[b].variance.count)")
            model.blocks[b].batchNorm.runningMean = Tensor(shape: [c], scalars: statistics[b].mean)
            model.blocks[b].batchNorm.runningVar = Tensor(shape: [c], scalars: statistics[b].variance)
        }
        return model
    }

    /// This model with precise statistics over `images` (see `preciseStatistics`).
    public func withPreciseStatistics(over images: Tensor) -> CNN {
        withStatistics(preciseStatistics(over: images))
    }

    /// theta_self <- decay theta_self + (1 - decay) theta_other for every parameter and BatchNorm buffer
    /// (an exponential-moving-average step; `other` must have this model's configuration).
    public mutating func moveAverage(toward other: CNN, decay: Float) {
        precondition(other.configuration == configuration, "CNN.moveAverage: models of different configurations")
        func blend(_ average: inout Tensor, _ value: Tensor) {
            let n = average.count
            withMutablePointer(&average) { a in
                withPointer(value) { v in
                    for j in 0..<n { a[j] = decay * a[j] + (1 - decay) * v[j] }
                }
            }
        }
        for b in blocks.indices {
            blend(&blocks[b].convolution.weight, other.blocks[b].convolution.weight)
            blend(&blocks[b].convolution.bias, other.blocks[b].convolution.bias)
            blend(&blocks[b].batchNorm.weight, other.blocks[b].batchNorm.weight)
            blend(&blocks[b].batchNorm.bias, other.blocks[b].batchNorm.bias)
            blend(&blocks[b].batchNorm.runningMean, other.blocks[b].batchNorm.runningMean)
            blend(&blocks[b].batchNorm.runningVar, other.blocks[b].batchNorm.runningVar)
            blocks[b].batchNorm.numBatchesTracked = other.blocks[b].batchNorm.numBatchesTracked
        }
        blend(&classifier.weight, other.classifier.weight)
        blend(&classifier.bias, other.classifier.bias)
    }
}

/// Per channel, the count, mean and sum of squared deviations of the values merged so far, in Double.
struct PopulationMoments {
    var count = 0.0
    var mean: [Double]
    var squares: [Double]

    init(channels: Int) {
        mean = [Double](repeating: 0, count: channels)
        squares = mean
    }

    /// Merges a batch of m values per channel, with its per-channel mean and biased variance (as BatchNorm's training
    /// pass forms them), into the totals with Chan, Golub and LeVeque's pairwise update.
    mutating func merge(mean batchMean: [Float], variance batchVariance: [Float], count m: Double) {
        for ch in mean.indices {
            let delta = Double(batchMean[ch]) - mean[ch]
            let total = count + m
            mean[ch] += delta * m / total
            squares[ch] += Double(batchVariance[ch]) * m + delta * delta * count * m / total
        }
        count += m
    }

    /// Merges image i's planes (`CNN.planeMoments`: per channel a float sum and the squared deviations about the
    /// float mean Float(sum / m), m = `count` values a plane) with the same pairwise update. The plane's own squared
    /// deviations about its exact mean sum / m are the given ones less m (sum / m - Float(sum / m))^2.
    mutating func merge(planes: (sums: [Float], squares: [Float]), image i: Int, count m: Double) {
        let c = mean.count
        for ch in 0..<c {
            let total = Double(planes.sums[i * c + ch]), planeMean = total / m
            let offset = planeMean - Double(Float(planeMean))
            let delta = planeMean - mean[ch], merged = count + m
            mean[ch] += delta * m / merged
            squares[ch] += Swift.max(0, Double(planes.squares[i * c + ch]) - m * offset * offset) + delta * delta * count * m / merged
        }
        count += m
    }

    /// The population (mean, biased variance) per channel, in Float.
    var statistics: (mean: [Float], variance: [Float]) {
        (mean.map { Float($0) }, squares.map { Float($0 / count) })
    }
}
