import CKernels
@testable import NN
import Tensor
import Testing
import TestSupport

/// Every instruction-set path of the layers' C kernels (`KernelISA.supported`: default, and AVX2 and AVX-512 where
/// this CPU has them) against the naive Swift reference beside each kernel, with sizes that leave tails of the
/// 16-lane vectors and of the register blocks. The paths compute the same bytes, so each is held to the reference
/// exactly where the reference adds in the same order, and to the other paths to the bit everywhere.
@Suite struct KernelPathTests {
    /// Padding, kernel, height, width, output channels: widths below, at and past 16 lanes, and output channels
    /// that leave a remainder after the blocks of 4 (and of 2 on the default path).
    static let directCases: [(Conv2D.Padding, Int, Int, Int, Int)] = [
        (.same, 3, 13, 11, 4), (.same, 3, 16, 16, 7), (.valid, 5, 21, 37, 5), (.same, 5, 9, 33, 1), (.valid, 3, 6, 18, 32),
    ]

    @Test(arguments: directCases)
    func directConvolutionOfEveryPathEqualsTheNaiveLoops(_ shape: (Conv2D.Padding, Int, Int, Int, Int)) {
        let (padding, k, h, w, outputs) = shape
        var generator = SeededGenerator(seed: 1)
        let conv = Conv2D(inputChannels: 1, outputChannels: outputs, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([3, 1, h, w], seed: 2)
        let naive = conv.forward(x, kernel: .naive).output
        let g = conv.geometry(x)
        for isa in KernelISA.supported {
            for threads in [1, 2] {
                let output = makeTensor(shape: naive.shape) { out in
                    withPointer(x) { inp in
                        withPointer(conv.weight) { wt in
                            withPointer(conv.bias) { b in Conv2D.directForward(g, inp, wt, b, out, threads: threads, isa: isa) }
                        }
                    }
                }
                #expect(output == naive, "\(isa), \(threads) threads, \(shape)")
            }
        }
    }

    /// The evaluation-mode first block fused in one kernel (`conv1_bn_relu_pool`: the convolution's rows pooled in
    /// registers) against the direct convolution and the fused BatchNorm-ReLU-pool in sequence, to the bit, on every
    /// path: the direct cases (odd output sizes, pooled rows below and past 16, channels past the register blocks),
    /// with BatchNorm scales of either sign and a zero one.
    @Test(arguments: directCases)
    func fusedFirstBlockOfEveryPathEqualsTheLayersInSequence(_ shape: (Conv2D.Padding, Int, Int, Int, Int)) {
        let (padding, k, h, w, outputs) = shape
        var generator = SeededGenerator(seed: 3)
        let conv = Conv2D(inputChannels: 1, outputChannels: outputs, kernelSize: k, padding: padding, generator: &generator)
        let bn = Self.batchNorm(channels: outputs)
        let x = randomTensor([3, 1, h, w], seed: 4)
        let reference = BatchNormReLUPool.forward(conv.forward(x, kernel: .naive).output, batchNorm: bn, mode: .evaluation).output
        for isa in KernelISA.supported {
            for threads in [1, 2] {
                let fused = BatchNormReLUPool.evaluatedDirect(x, convolution: conv, batchNorm: bn, threads: threads, isa: isa)
                #expect(fused.shape == reference.shape)
                #expect(fused.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern), "\(isa), \(threads) threads, \(shape)")
            }
        }
    }

    /// The evaluation-mode block after a Winograd convolution fused with its output transform
    /// (`winograd_tiles_out_pool`: each output tile pooled in registers) against the Winograd convolution and the fused
    /// BatchNorm-ReLU-pool in sequence, to the bit, on every path, at 1 and 2 threads, with and without the prepared
    /// weight: F(4, 3) on 4, 8, 10, 16 and 18 tiles a row (4 or 2 rows packed in a 16-lane group, a partial one, a
    /// whole one, one and a partial), F(4, 5) on valid padding, several images and channels past a group, BatchNorm scales of either sign
    /// and a zero one. `evaluatedBlock` takes this path only where the tiles cover the plane, and elsewhere gives the
    /// same bytes as the unfused layers.
    @Test(arguments: [(Conv2D.Padding.same, 3, 16), (.same, 3, 32), (.same, 3, 40), (.same, 3, 64), (.same, 3, 72), (.valid, 5, 36)])
    func fusedWinogradBlockOfEveryPathEqualsTheLayersInSequence(_ shape: (Conv2D.Padding, Int, Int)) {
        let (padding, k, side) = shape
        var generator = SeededGenerator(seed: 5)
        var conv = Conv2D(inputChannels: 3, outputChannels: 5, kernelSize: k, padding: padding, generator: &generator)
        let bn = Self.batchNorm(channels: 5)
        let x = randomTensor([3, 3, side, side], seed: 6)
        let g = conv.geometry(x)
        #expect(Conv2D.winogradPoolsInTiles(g, conv.winogradTiles))
        for isa in KernelISA.supported {
            var convolved = Tensor(zeros: [g.n, g.o, g.ho, g.wo])
            withPointer(x) { inp in
                withPointer(conv.weight) { wt in
                    withPointer(conv.bias) { b in
                        withMutablePointer(&convolved) { out in
                            Conv2D.winogradForward(g, inp, wt, b, out, threads: 1, transform: conv.winogradTiles, isa: isa)
                        }
                    }
                }
            }
            let reference = BatchNormReLUPool.forward(convolved, batchNorm: bn, mode: .evaluation, threads: 1, isa: isa).output
            for (threads, prepare) in [(1, false), (2, false), (2, true)] {
                if prepare { conv.prepareWinogradWeights() }
                let fused = BatchNormReLUPool.evaluatedWinograd(x, convolution: conv, batchNorm: bn, threads: threads, isa: isa)
                #expect(fused.shape == reference.shape)
                #expect(fused.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern),
                        "\(isa), \(threads) threads, prepared \(prepare), \(shape)")
            }
            conv.preparedWinograd = nil
        }
    }

    /// Evaluation runs 3x3 layers by Winograd from 16 x 16 output planes where the tiles cover the plane (training
    /// from 32 x 32); at 8 px, and at 18 px (a partial tile), by im2col; one input channel by the direct kernel.
    @Test func evaluationKernelTakesWinogradFromSixteenPixelsInWholeTiles() {
        var generator = SeededGenerator(seed: 7)
        let conv = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: .same, generator: &generator)
        let first = Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: .same, generator: &generator)
        func geometry(_ c: Conv2D, _ side: Int) -> Conv2D.Geometry { c.geometry(Tensor(zeros: [1, c.inputChannels, side, side])) }
        #expect(conv.evaluationKernel(geometry(conv, 16)) == .winograd)
        #expect(conv.resolved(.automatic, geometry(conv, 16)) == .gemm)
        #expect(conv.evaluationKernel(geometry(conv, 32)) == .winograd)
        #expect(conv.evaluationKernel(geometry(conv, 8)) == .gemm)
        #expect(conv.evaluationKernel(geometry(conv, 18)) == .gemm)
        #expect(first.evaluationKernel(geometry(first, 16)) == .direct)
    }

    /// `evaluatedBlock` where the Winograd tiles do not cover the plane (34 px: a partial tile) or the layer runs by
    /// im2col (8 px): the unfused layers' bytes.
    @Test func evaluatedBlockWithoutWholeTilesEqualsTheLayersInSequence() {
        var generator = SeededGenerator(seed: 7)
        let conv = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: .same, generator: &generator)
        let bn = Self.batchNorm(channels: 4)
        for side in [34, 8] {
            let x = randomTensor([2, 3, side, side], seed: 8)
            #expect(!Conv2D.winogradPoolsInTiles(conv.geometry(x), conv.winogradTiles) || side == 8)
            let reference = BatchNormReLUPool.forward(conv.forward(x).output, batchNorm: bn, mode: .evaluation).output
            let block = BatchNormReLUPool.evaluatedBlock(x, convolution: conv, batchNorm: bn, threads: 2)
            #expect(block.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern), "\(side) px")
        }
    }

    /// A BatchNorm with scales of either sign and a zero one (every winner inactive), and non-trivial running
    /// statistics for the evaluation mode.
    static func batchNorm(channels: Int) -> BatchNorm2D {
        var bn = BatchNorm2D(channels: channels)
        bn.weight = randomTensor([channels], seed: 11) + Tensor(repeating: 0.5, shape: [channels])
        bn.weight.scalars[0] = 0
        bn.bias = randomTensor([channels], seed: 12).scaled(by: 0.5)
        bn.runningMean = randomTensor([channels], seed: 13).scaled(by: 0.2)
        bn.runningVar = randomTensor([channels], seed: 14).scaled(by: 0.3) + Tensor(repeating: 1, shape: [channels])
        return bn
    }

    /// Heights and widths: odd (a row and a column in no window), below 32 (16 windows: the scalar tail only), and
    /// past it (vectors and a tail).
    @Test(arguments: [Mode.training, .evaluation], [(7, 9), (8, 32), (5, 35), (12, 67)])
    func fusedBlockOfEveryPathMatchesTheLayersInSequence(mode: Mode, size: (Int, Int)) {
        let (h, w) = size
        let bn = Self.batchNorm(channels: 3)
        let x = randomTensor([4, 3, h, w], seed: 15)
        let r = randomTensor([4, 3, h / 2, w / 2], seed: 16)
        let (normalized, bnCache) = bn.normalized(x, mode: mode)
        let (activated, reluCache) = ReLU.forward(normalized)
        let (pooled, poolCache) = MaxPool2D.forward(activated)
        let reference = bn.backward(dout: ReLU.backward(dout: MaxPool2D.backward(dout: r, cache: poolCache), cache: reluCache), cache: bnCache)
        var first: (din: Tensor, dweight: [Float], dbias: [Float], winners: [UInt8])?
        for isa in KernelISA.supported {
            let (fused, cache) = BatchNormReLUPool.forward(x, batchNorm: bn, mode: mode, threads: 2, isa: isa)
            #expect(fused == pooled, "\(isa) forward")
            let result = BatchNormReLUPool.backward(dout: r, cache: cache, batchNorm: bn, threads: 2, isa: isa)
            #expect(relativeError(result.din, reference.din) < kernelTolerance, "\(isa) din")
            #expect(relativeError(Tensor(shape: [3], scalars: result.dweight), Tensor(shape: [3], scalars: reference.dweight)) < kernelTolerance)
            #expect(relativeError(Tensor(shape: [3], scalars: result.dbias), Tensor(shape: [3], scalars: reference.dbias)) < kernelTolerance)
            if let first {
                #expect(cache.winners == first.winners && result.din == first.din, "\(isa)")
                #expect(result.dweight.map(\.bitPattern) == first.dweight.map(\.bitPattern), "\(isa) dgamma")
                #expect(result.dbias.map(\.bitPattern) == first.dbias.map(\.bitPattern), "\(isa) dbeta")
            } else {
                first = (result.din, result.dweight, result.dbias, cache.winners)
            }
        }
    }

    @Test func batchStatisticsOfEveryPathAreTheSameBytesAndCloseToTheExactMoments() {
        let x = randomTensor([3, 4, 9, 21], seed: 17) + Tensor(repeating: 2, shape: [3, 4, 9, 21])
        let bn = BatchNorm2D(channels: 4)
        let first = bn.statistics(x, mode: .training, threads: 1, isa: .baseline)
        for isa in KernelISA.supported {
            let stats = bn.statistics(x, mode: .training, threads: 2, isa: isa)
            #expect(stats.mean.map(\.bitPattern) == first.mean.map(\.bitPattern) && stats.variance.map(\.bitPattern) == first.variance.map(\.bitPattern), "\(isa)")
        }
        let plane = 9 * 21
        for ch in 0..<4 {
            var values: [Double] = []
            for i in 0..<3 { values += x.scalars[((i * 4 + ch) * plane)..<((i * 4 + ch + 1) * plane)].map(Double.init) }
            let mean: Double = values.reduce(0, +) / Double(values.count)
            let variance: Double = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(isClose(first.mean[ch], Float(mean), relative: 1e-6, absolute: 0), "mean \(ch)")
            #expect(isClose(first.variance[ch], Float(variance), relative: 1e-5, absolute: 0), "variance \(ch)")
        }
    }

    /// Sizes with and without vectors of 16 windows and odd rows and columns; NaN, infinities and zeros of either
    /// sign among the values, where only the order of comparison decides.
    @Test(arguments: [(7, 13), (8, 32), (12, 67), (3, 40)])
    func windowExtremesOfEveryPathEqualTheReferenceToTheBit(size: (Int, Int)) {
        var x = randomTensor([2, 3, size.0, size.1], seed: 18)
        for (j, special) in [Float.nan, .infinity, -.infinity, -0.0, 0, .nan].enumerated() { x.scalars[j * 7 % x.count] = special }
        let reference = CNN.naiveWindowExtremes(x)
        for isa in KernelISA.supported {
            let (maxima, minima) = CNN.windowExtremes(x, threads: 2, isa: isa)
            #expect(maxima.map(\.bitPattern) == reference.maxima.map(\.bitPattern), "\(isa) maxima")
            #expect(minima.map(\.bitPattern) == reference.minima.map(\.bitPattern), "\(isa) minima")
        }
    }

    /// Several steps with weight decay; sizes with and without a tail after the 16-lane vectors.
    @Test(arguments: [1, 15, 16, 17, 100])
    func adamOfEveryPathEqualsTheReferenceToTheBit(n: Int) {
        let gradients = (0..<3).map { randomTensor([n], seed: 20 + UInt64($0)).scalars }
        func run(_ step: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Float) -> Void) -> [Float] {
            var p = randomTensor([n], seed: 19).scalars, m = [Float](repeating: 0, count: n), v = m
            for (t, g) in gradients.enumerated() {
                let stepSize = 0.01 * Float(t + 1)
                g.withUnsafeBufferPointer { gp in step(&p, gp.baseAddress!, &m, &v, stepSize) }
            }
            return p + m + v
        }
        let reference = run { p, g, m, v, stepSize in
            Adam.referenceStep(p, g, m, v, n, beta1: 0.9, beta2: 0.999, stepSize: stepSize, correction2: 0.3, epsilon: 1e-8, weightDecay: 0.05)
        }
        for isa in KernelISA.supported {
            let kernels = isa.kernels
            let result = run { p, g, m, v, stepSize in kernels.adam(p, g, m, v, n, 0.9, 0.999, stepSize, 0.3, 1e-8, 0.05) }
            #expect(result.map(\.bitPattern) == reference.map(\.bitPattern), "\(isa)")
        }
    }
}
