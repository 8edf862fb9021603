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
/// size beyond float rounding. Block by block: one pass for the statistics, one pass to carry the images
/// through the block with them; the blocks' outputs for all images are held in memory between blocks
/// (for N images at 128 px with 32 first-layer channels, N x 512 KiB), so bound N (`TrainingRecipe.preciseStatisticsImages`).
extension CNN {
    /// Per block, the population (mean, biased variance) of the convolution's output per channel: [C_b] each.
    /// images: [N, inputChannels, S, S], N >= 1.
    public func preciseStatistics(over images: Tensor, batchSize: Int = 64) -> [(mean: [Float], variance: [Float])] {
        let s = configuration.imageSize
        precondition(images.rank == 4 && images.shape[0] >= 1 && Array(images.shape[1...]) == [configuration.inputChannels, s, s],
                     "CNN.preciseStatistics: images must be [N >= 1, \(configuration.inputChannels), \(s), \(s)], got \(images.shape)")
        precondition(batchSize >= 1, "CNN.preciseStatistics: batch size \(batchSize)")
        BLAS.setThreads(1)
        var model = self
        var current = images
        var result: [(mean: [Float], variance: [Float])] = []
        let n = images.shape[0]
        for b in blocks.indices {
            let channels = blocks[b].batchNorm.channels
            var count = 0.0
            var mean = [Double](repeating: 0, count: channels), squares = [Double](repeating: 0, count: channels)
            var start = 0
            while start < n {
                let end = Swift.min(n, start + batchSize)
                let convolved = model.blocks[b].convolution.forward(current.items(start..<end), threads: threads).output
                let batch = model.blocks[b].batchNorm.statistics(convolved, mode: .training, threads: threads)
                let m = Double(convolved.count / channels)
                for ch in 0..<channels {
                    // Chan et al.: merge (count, mean, M2) of the batch into the running totals.
                    let delta = Double(batch.mean[ch]) - mean[ch]
                    let total = count + m
                    mean[ch] += delta * m / total
                    squares[ch] += Double(batch.variance[ch]) * m + delta * delta * count * m / total
                }
                count += m
                start = end
            }
            let statistics = (mean: mean.map { Float($0) }, variance: squares.map { Float($0 / count) })
            result.append(statistics)
            model.blocks[b].batchNorm.runningMean = Tensor(shape: [channels], scalars: statistics.mean)
            model.blocks[b].batchNorm.runningVar = Tensor(shape: [channels], scalars: statistics.variance)
            guard b + 1 < blocks.count else { break }
            var next: [Float] = []
            start = 0
            while start < n {
                let end = Swift.min(n, start + batchSize)
                let convolved = model.blocks[b].convolution.forward(current.items(start..<end), threads: threads).output
                let pooled = BatchNormReLUPool.forward(convolved, batchNorm: model.blocks[b].batchNorm, mode: .evaluation, threads: threads).output
                if next.isEmpty { next.reserveCapacity(n * pooled.itemCount) }
                next += pooled.scalars
                start = end
                if end == n { current = Tensor(shape: [n] + Array(pooled.shape.dropFirst()), scalars: next) }
            }
        }
        return result
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
