import CKernels
import Tensor

/// Population BatchNorm statistics for fixed weights ("precise BN", Wu and Johnson 2021, "Rethinking
/// 'Batch' in BatchNorm", section 3), computed exactly rather than as running averages.
///
/// For block b, the population mean and (biased) variance of channel c are taken over every value the
/// convolution of block b produces for the given images, when every earlier block normalises with its
/// own recomputed population statistics, i.e. exactly what the evaluation-mode network meets:
///     mu_b,c  = (1 / M) sum x_b,c,        var_b,c = (1 / M) sum (x_b,c - mu_b,c)^2,   M = N H_b W_b.
/// Per batch the sums are formed as (mean, sum of squared deviations) and combined in Double with Chan,
/// Golub and LeVeque's pairwise update (a cumulative average), so the result does not depend on the batch
/// size beyond float rounding.
///
/// Block by block, one convolution pass per block, plus a recomputation where holding a block's output would
/// take too much memory. Block b's evaluation-mode output (BatchNorm, ReLU, max-pool) follows from one extreme of
/// each 2x2 window of its convolution's output once its statistics are known (`normalisedInPlace`): the maximum
/// where gamma >= 0, the minimum where gamma < 0 (the sign of the BatchNorm scale gamma / sqrt(var + eps) whenever
/// the variance is finite). That extreme is kept for all N images when it fits in `carryBudget` bytes (at 128 px,
/// 32 first-layer channels: N x 128 KiB), and normalised in place into the next block's input. A block whose output
/// does not fit (at 256 px: N x 0.5-2 MiB) is not kept: the next block recomputes it per batch from the last kept
/// input, in evaluation mode with the statistics just found. Same bytes as `referencePreciseStatistics`, which keeps
/// both extremes of every block (tested; it also serves the degenerate case of a non-finite variance).
extension CNN {
    /// Bytes of one block's output the precise pass holds for all images (see the extension's comment).
    public static let preciseCarryBudget = 256 << 20

    /// Per block, the population (mean, biased variance) of the convolution's output per channel: [C_b] each.
    /// images: [N, inputChannels, S, S], N >= 1.
    public func preciseStatistics(over images: Tensor, batchSize: Int = 64,
                                  carryBudget: Int = CNN.preciseCarryBudget) -> [(mean: [Float], variance: [Float])] {
        let s = configuration.imageSize
        precondition(images.rank == 4 && images.shape[0] >= 1 && Array(images.shape[1...]) == [configuration.inputChannels, s, s],
                     "CNN.preciseStatistics: images must be [N >= 1, \(configuration.inputChannels), \(s), \(s)], got \(images.shape)")
        precondition(batchSize >= 1, "CNN.preciseStatistics: batch size \(batchSize)")
        BLAS.setThreads(1)
        var model = self
        model.prepareWinogradWeights()
        // `source` is the input of block `sourceBlock` for every image: the images, or the last block output kept.
        var source = images, sourceBlock = 0
        var result: [(mean: [Float], variance: [Float])] = []
        let n = images.shape[0], sizes = configuration.blockSizes
        for b in blocks.indices {
            let channels = blocks[b].batchNorm.channels
            let pooledShape = [n, channels, sizes[b].convolution / 2, sizes[b].convolution / 2]
            let keeps = b + 1 < blocks.count && pooledShape.reduce(1, *) * MemoryLayout<Float>.size <= carryBudget
            let useMaxima = blocks[b].batchNorm.weight.scalars.map { $0 >= 0 }
            var kept = [Float](repeating: 0, count: keeps ? pooledShape.reduce(1, *) : 0)
            var moments = PopulationMoments(channels: channels)
            var start = 0
            let perImage = pooledShape[1...].reduce(1, *)
            while start < n {
                let end = Swift.min(n, start + batchSize)
                let batchBytes = (end - start) * channels * sizes[b].convolution * sizes[b].convolution * MemoryLayout<Float>.size
                if batchBytes > carryBudget {
                    // A batch output too large to hold (the first block at 256 px: 0.5 GB): its moments in two passes
                    // over chunks of images, the convolution run in each.
                    let (batchMean, batchVariance) = model.chunkedBatchMoments(
                        b, inputs: { model.pooledBlockOutputs(sourceBlock..<b, source.items((start + $0.lowerBound)..<(start + $0.upperBound))) },
                        count: end - start) { range, convolved in
                        guard keeps else { return }
                        kept.withUnsafeMutableBufferPointer { out in
                            guard let base = out.baseAddress else { return }
                            Self.selectedWindowExtremes(convolved, maxima: useMaxima, into: base + (start + range.lowerBound) * perImage, threads: threads)
                        }
                    }
                    moments.merge(mean: batchMean, variance: batchVariance, count: Double(batchBytes / MemoryLayout<Float>.size / channels))
                } else {
                    let input = model.pooledBlockOutputs(sourceBlock..<b, source.items(start..<end))
                    let convolved = model.blocks[b].convolution.forward(input, threads: threads).output
                    let batch = model.blocks[b].batchNorm.statistics(convolved, mode: .training, threads: threads)
                    moments.merge(mean: batch.mean, variance: batch.variance, count: Double(convolved.count / channels))
                    if keeps {
                        kept.withUnsafeMutableBufferPointer { out in
                            guard let base = out.baseAddress else { return }
                            Self.selectedWindowExtremes(convolved, maxima: useMaxima, into: base + start * perImage, threads: threads)
                        }
                    }
                }
                start = end
            }
            let statistics = moments.statistics
            // A non-finite variance can give a scale whose sign is not gamma's: the kept extremes may be the wrong ones.
            guard statistics.variance.allSatisfy(\.isFinite) else {
                return referencePreciseStatistics(over: images, batchSize: batchSize)
            }
            result.append(statistics)
            model.blocks[b].batchNorm.runningMean = Tensor(shape: [channels], scalars: statistics.mean)
            model.blocks[b].batchNorm.runningVar = Tensor(shape: [channels], scalars: statistics.variance)
            if keeps {
                Self.normalisedInPlace(&kept, shape: pooledShape, batchNorm: model.blocks[b].batchNorm)
                source = Tensor(shape: pooledShape, scalars: kept)
                sourceBlock = b + 1
            }
        }
        return result
    }

    /// The (mean, biased variance) per channel of block b's convolution output over `count` images, exactly as
    /// `BatchNorm2D.statistics` forms them for the whole batch at once (per plane sums in image order, in Double, then
    /// the centred squares about the Float mean), with `chunk` images' output in memory at a time: `inputs(range)` gives
    /// the block's input for images `range`, convolved once for the sums and once more for the squares, when
    /// `visit(range, output)` also sees each chunk's output.
    func chunkedBatchMoments(_ b: Int, inputs: (Range<Int>) -> Tensor, count: Int, chunk: Int = 8,
                             isa: KernelISA = .active, visit: (Range<Int>, Tensor) -> Void) -> (mean: [Float], variance: [Float]) {
        let c = blocks[b].batchNorm.channels, kernels = isa.kernels
        let hw = configuration.blockSizes[b].convolution * configuration.blockSizes[b].convolution
        let m = Double(count * hw)
        func forEachChunk(_ body: (Range<Int>, Tensor) -> Void) {
            var start = 0
            while start < count {
                let range = start..<Swift.min(count, start + chunk)
                body(range, blocks[b].convolution.forward(inputs(range), threads: threads).output)
                start = range.upperBound
            }
        }
        func addPerChannel(_ totals: inout [Double], _ x: Tensor, _ term: (UnsafePointer<Float>, Int) -> Float) {
            let images = x.shape[0]
            withPointer(x) { p in
                totals.withUnsafeMutableBufferPointer { t in
                    let sums = UncheckedSendable(t)
                    Parallel.forEachChunk(count: c, chunks: threads) { _, channels in
                        for ch in channels { for i in 0..<images { sums.value[ch] += Double(term(p + (i * c + ch) * hw, ch)) } }
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: c)
        forEachChunk { _, x in addPerChannel(&sums, x) { plane, _ in kernels.sum(plane, hw) } }
        let mean = sums.map { Float($0 / m) }
        var squares = [Double](repeating: 0, count: c)
        forEachChunk { range, x in
            addPerChannel(&squares, x) { plane, ch in kernels.centred_squares(plane, hw, mean[ch]) }
            visit(range, x)
        }
        return (mean, squares.map { Float($0 / m) })
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
    public func withPreciseStatistics(over images: Tensor, batchSize: Int = 64) -> CNN {
        withStatistics(preciseStatistics(over: images, batchSize: batchSize))
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

    /// The population (mean, biased variance) per channel, in Float.
    var statistics: (mean: [Float], variance: [Float]) {
        (mean.map { Float($0) }, squares.map { Float($0 / count) })
    }
}
