import Testing
@testable import NN
import Tensor

/// Precise BatchNorm statistics (`CNN.preciseStatistics`) against a direct computation, and the EMA step.
@Suite struct PreciseBatchNormTests {
    /// A 2-block CNN with BatchNorm affine parameters away from (1, 0), so block 2's input depends on them.
    static func model() throws -> CNN {
        var generator = SeededGenerator(seed: 11)
        var cnn = try CNN(configuration: CNNConfiguration(imageSize: 12, channels: [3, 4], kernelSize: 3, padding: .same),
                          generator: &generator, threads: 1)
        for b in cnn.blocks.indices {
            let c = cnn.blocks[b].batchNorm.channels
            cnn.blocks[b].batchNorm.weight = Tensor(randomUniform: [c], low: 0.5, high: 1.5, generator: &generator)
            cnn.blocks[b].batchNorm.bias = Tensor(randomUniform: [c], low: -0.2, high: 0.4, generator: &generator)
        }
        return cnn
    }

    static func images(_ count: Int) -> Tensor {
        var generator = SeededGenerator(seed: 5)
        return Tensor(randomUniform: [count, 1, 12, 12], low: 0, high: 1, generator: &generator)
    }

    /// Per-channel mean and biased variance of x: [N, C, H, W], in Double, by plain loops.
    static func directMoments(_ x: Tensor) -> (mean: [Double], variance: [Double]) {
        let n = x.shape[0], c = x.shape[1], hw = x.shape[2] * x.shape[3]
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        for ch in 0..<c {
            var s = 0.0
            for i in 0..<n { for j in 0..<hw { s += Double(x.scalars[(i * c + ch) * hw + j]) } }
            let mu = s / Double(n * hw)
            var q = 0.0
            for i in 0..<n { for j in 0..<hw { let d = Double(x.scalars[(i * c + ch) * hw + j]) - mu; q += d * d } }
            mean[ch] = mu
            variance[ch] = q / Double(n * hw)
        }
        return (mean, variance)
    }

    @Test func statisticsEqualDirectPerChannelMomentsForAnyChunk() throws {
        let cnn = try Self.model()
        let x = Self.images(37)
        // Reference: block 1's convolution output over all images at once, its moments in Double; block 2's input
        // is block 1 normalised with those moments (evaluation mode), then block 2's convolution.
        var reference = cnn
        let conv1 = cnn.blocks[0].convolution.forward(x).output
        let m1 = Self.directMoments(conv1)
        reference.blocks[0].batchNorm.runningMean = Tensor(shape: [3], scalars: m1.mean.map(Float.init))
        reference.blocks[0].batchNorm.runningVar = Tensor(shape: [3], scalars: m1.variance.map(Float.init))
        let pooled = BatchNormReLUPool.forward(conv1, batchNorm: reference.blocks[0].batchNorm, mode: .evaluation).output
        let m2 = Self.directMoments(cnn.blocks[1].convolution.forward(pooled).output)
        // Float32 sums of 144-value planes carry ~1e-7 relative rounding, and the Chan merge is exact in Double:
        // 1e-5 of the channel's scale (|mean| + std) leaves two orders of margin.
        for chunk in [1, 5, 37, 64] {
            let precise = cnn.preciseStatistics(over: x, chunk: chunk)
            for (b, direct) in [m1, m2].enumerated() {
                for ch in direct.mean.indices {
                    let scale = abs(direct.mean[ch]) + direct.variance[ch].squareRoot()
                    #expect(abs(Double(precise[b].mean[ch]) - direct.mean[ch]) <= 1e-5 * scale, "chunk \(chunk), block \(b), channel \(ch) mean")
                    #expect(abs(Double(precise[b].variance[ch]) - direct.variance[ch]) <= 1e-5 * direct.variance[ch] + 1e-12,
                            "chunk \(chunk), block \(b), channel \(ch) variance")
                }
            }
        }
    }

    /// The precise pass carries images to the next block from the windows' extremes instead of convolving twice:
    /// the result must be the fused BatchNorm-ReLU-max-pool's output to the bit, for scales of either sign (negative
    /// gamma picks the minimum), an odd height and width (last row and column dropped) and the SIMD and scalar tails.
    @Test func normalisingTheWindowsExtremesEqualsTheFusedPassExactly() {
        var generator = SeededGenerator(seed: 23)
        for (h, w) in [(7, 13), (8, 8), (12, 10)] {
            let x = Tensor(randomUniform: [3, 4, h, w], low: -2, high: 2, generator: &generator)
            var bn = BatchNorm2D(channels: 4)
            bn.weight = Tensor(shape: [4], scalars: [1.3, -0.7, 0, 0.2])
            bn.bias = Tensor(shape: [4], scalars: [0.1, -0.3, 0.5, 0])
            bn.runningMean = Tensor(shape: [4], scalars: [0.2, -0.1, 0.05, 1.5])
            bn.runningVar = Tensor(shape: [4], scalars: [0.9, 2.5, 0.3, 0.01])
            let fused = BatchNormReLUPool.forward(x, batchNorm: bn, mode: .evaluation).output
            let (maxima, minima) = CNN.windowExtremes(x)
            let carried = CNN.pooledAfterNormalising(maxima: maxima, minima: minima, shape: fused.shape, batchNorm: bn)
            #expect(carried.shape == fused.shape)
            #expect(zip(carried.scalars, fused.scalars).allSatisfy { $0 == $1 }, "\(h)x\(w)")
        }
    }

    /// The precise pass keeps one window extreme per block output when it fits its budget and recomputes the block
    /// otherwise, per chunk of images, on 1 or 2 workers: whichever blocks are kept (budget 0: none), whatever the chunk
    /// and the thread count, the statistics must be the same to the bit (every plane's sums are formed alone and merged
    /// in image order), for negative and zero gamma (the minimum is kept), odd sizes (3x3 valid: 23 -> 21 -> 10 -> 8 ->
    /// 4 -> 2) and chunks that leave a short last one; and they must equal
    /// the reference (whole batches, both extremes of every block kept) within float rounding: per plane a float sum
    /// over at most 441 values (two 16-lane accumulators: <= 441 / 32 + 6 additions a value) and conv dot products of
    /// at most 27 terms carry <= 47 * 2^-24 = 2.8e-6 relative error on the channel's scale (|mean| + std); the
    /// reference rounds each batch's mean to float once more. 1e-5 leaves room for that error carried through one
    /// normalised block.
    @Test func keptOrRecomputedBlocksChunksAndThreadsGiveTheSameStatistics() throws {
        var generator = SeededGenerator(seed: 31)
        var cnn = try CNN(configuration: CNNConfiguration(imageSize: 23, channels: [3, 4, 2], kernelSize: 3, padding: .valid),
                          generator: &generator, threads: 1)
        cnn.blocks[0].batchNorm.weight = Tensor(shape: [3], scalars: [1.2, -0.8, 0])
        cnn.blocks[1].batchNorm.weight = Tensor(shape: [4], scalars: [-0.5, 0.9, -0.0, 1.1])
        for b in cnn.blocks.indices {
            cnn.blocks[b].batchNorm.bias = Tensor(randomUniform: [cnn.blocks[b].batchNorm.channels], low: -0.3, high: 0.5, generator: &generator)
        }
        let x = Tensor(randomUniform: [11, 1, 23, 23], low: 0, high: 1, generator: &generator)
        func bits(_ statistics: [(mean: [Float], variance: [Float])]) -> [UInt32] {
            statistics.flatMap { $0.mean + $0.variance }.map(\.bitPattern)
        }
        let first = cnn.preciseStatistics(over: x)
        let reference = cnn.referencePreciseStatistics(over: x, batchSize: 4)
        for (b, (ours, theirs)) in zip(first, reference).enumerated() {
            for ch in ours.mean.indices {
                let scale = Double(abs(theirs.mean[ch])) + Double(theirs.variance[ch]).squareRoot()
                #expect(abs(Double(ours.mean[ch]) - Double(theirs.mean[ch])) <= 1e-5 * scale, "block \(b), channel \(ch) mean")
                #expect(abs(Double(ours.variance[ch]) - Double(theirs.variance[ch])) <= 1e-5 * Double(theirs.variance[ch]) + 1e-12,
                        "block \(b), channel \(ch) variance")
            }
        }
        for threads in [1, 2] {
            cnn.threads = threads
            for chunk in [1, 4, 64] {
                // Budgets: nothing kept (every block recomputed), block 2's output only (11 x 4 x 4 x 4 floats; block 1's
                // 11 x 3 x 10 x 10 is recomputed), everything.
                for budget in [0, 11 * 4 * 4 * 4 * 4, Int.max] {
                    #expect(bits(cnn.preciseStatistics(over: x, chunk: chunk, carryBudget: budget)) == bits(first),
                            "threads \(threads), chunk \(chunk), budget \(budget)")
                }
            }
        }
    }

    @Test func withStatisticsReplacesOnlyTheRunningStatistics() throws {
        let cnn = try Self.model()
        let adapted = cnn.withPreciseStatistics(over: Self.images(9))
        for b in cnn.blocks.indices {
            #expect(adapted.blocks[b].convolution.weight == cnn.blocks[b].convolution.weight)
            #expect(adapted.blocks[b].batchNorm.weight == cnn.blocks[b].batchNorm.weight)
            #expect(adapted.blocks[b].batchNorm.runningMean != cnn.blocks[b].batchNorm.runningMean)
        }
        #expect(adapted.classifier.weight == cnn.classifier.weight)
    }

    @Test func movingAverageMatchesItsClosedForm() throws {
        // theta_k = k (every entry) for k = 1..K, average started at theta_0 = 0 with a constant decay d:
        //   avg_K = sum_k (1 - d) d^(K - k) k = K - d (1 - d^K) / (1 - d).
        let base = try Self.model()
        var average = base
        func filled(_ value: Float) -> CNN {
            var m = base
            for b in m.blocks.indices {
                m.blocks[b].convolution.weight = Tensor(repeating: value, shape: m.blocks[b].convolution.weight.shape)
                m.blocks[b].batchNorm.runningVar = Tensor(repeating: value, shape: m.blocks[b].batchNorm.runningVar.shape)
            }
            m.classifier.bias = Tensor(repeating: value, shape: m.classifier.bias.shape)
            return m
        }
        average = filled(0)
        let d: Float = 0.7, steps = 12
        for k in 1...steps { average.moveAverage(toward: filled(Float(k)), decay: d) }
        let expected = Double(steps) - Double(d) * (1 - pow(Double(d), Double(steps))) / (1 - Double(d))
        // 12 Float updates, each rounding by ~6e-8 relative: 1e-5 relative is ample.
        for value in average.blocks[0].convolution.weight.scalars + average.blocks[1].batchNorm.runningVar.scalars
            + average.classifier.bias.scalars {
            #expect(abs(Double(value) - expected) <= 1e-5 * expected)
        }
    }
}

private func pow(_ x: Double, _ y: Double) -> Double { y == 0 ? 1 : (1...Int(y)).reduce(1.0) { acc, _ in acc * x } }
