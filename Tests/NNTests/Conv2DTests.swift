import NN
import Tensor
import Testing
import TestSupport

@Suite struct Conv2DTests {
    /// Output, input gradient and parameter gradients of one kernel, for dout = r.
    func run(_ conv: Conv2D, _ x: Tensor, _ r: Tensor, kernel: Conv2D.Kernel, threads: Int = 1) -> (Tensor, Tensor, Tensor, Tensor) {
        let (y, cache) = conv.forward(x, threads: threads, kernel: kernel)
        var dw = Tensor(zeros: conv.weight.shape), db = Tensor(zeros: conv.bias.shape)
        let dx = conv.backward(dout: r, cache: cache, dweight: &dw, dbias: &db, threads: threads, kernel: kernel)
        return (y, dx, dw, db)
    }

    func expectSame(_ a: (Tensor, Tensor, Tensor, Tensor), _ b: (Tensor, Tensor, Tensor, Tensor), _ label: String) {
        #expect(relativeError(a.0, b.0) < kernelTolerance, "\(label): output")
        #expect(relativeError(a.1, b.1) < kernelTolerance, "\(label): input gradient")
        #expect(relativeError(a.2, b.2) < kernelTolerance, "\(label): weight gradient")
        #expect(relativeError(a.3, b.3) < kernelTolerance, "\(label): bias gradient")
    }

    @Test(arguments: [(Conv2D.Padding.valid, 5), (.same, 3), (.same, 5), (.valid, 3)])
    func directAndGemmMatchNaiveForOneChannel(padding: Conv2D.Padding, k: Int) {
        var generator = SeededGenerator(seed: 1)
        let conv = Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([3, 1, 13, 11], seed: 2)
        let ho = conv.outputSize(13), wo = conv.outputSize(11)
        let r = randomTensor([3, 4, ho, wo], seed: 3)
        let naive = run(conv, x, r, kernel: .naive)
        expectSame(run(conv, x, r, kernel: .direct), naive, "direct \(padding) \(k)")
        expectSame(run(conv, x, r, kernel: .gemm), naive, "gemm \(padding) \(k)")
        expectSame(run(conv, x, r, kernel: .direct, threads: 2), naive, "direct 2 threads \(padding) \(k)")
    }

    @Test(arguments: [(Conv2D.Padding.valid, 5), (.same, 3)])
    func gemmMatchesNaiveForSeveralChannels(padding: Conv2D.Padding, k: Int) {
        var generator = SeededGenerator(seed: 4)
        let conv = Conv2D(inputChannels: 3, outputChannels: 5, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([2, 3, 9, 12], seed: 5)
        let r = randomTensor([2, 5, conv.outputSize(9), conv.outputSize(12)], seed: 6)
        expectSame(run(conv, x, r, kernel: .gemm, threads: 2), run(conv, x, r, kernel: .naive), "gemm \(padding) \(k)")
    }

    /// Large enough that the im2col matrices (of the input: C*K*K rows; of dout for the input
    /// gradient: O*K*K rows) are split into several row tiles.
    @Test(arguments: [(32, 4, Conv2D.Padding.same), (4, 32, .same), (4, 32, .valid)])
    func gemmWithSeveralRowTilesMatchesNaive(inputChannels: Int, outputChannels: Int, padding: Conv2D.Padding) {
        var generator = SeededGenerator(seed: 7)
        let conv = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: padding, generator: &generator)
        let x = randomTensor([2, inputChannels, 41, 40], seed: 8)
        let r = randomTensor([2, outputChannels, conv.outputSize(41), conv.outputSize(40)], seed: 9)
        expectSame(run(conv, x, r, kernel: .gemm), run(conv, x, r, kernel: .naive), "tiled gemm")
    }

    @Test(arguments: [1, 3])
    func gradientsMatchFiniteDifferences(inputChannels: Int) {
        var generator = SeededGenerator(seed: 10)
        let conv = Conv2D(inputChannels: inputChannels, outputChannels: 3, kernelSize: 3, padding: .same, generator: &generator)
        let x = randomTensor([2, inputChannels, 17, 18], seed: 11)
        let r = randomTensor([2, 3, 17, 18], seed: 12)
        let (_, dx, dw, db) = run(conv, x, r, kernel: .automatic)
        let byInput = gradientCheck(of: { probe(conv.forward($0).output, r) }, at: x, analytic: dx, step: FiniteDifference.step)
        let byWeight = gradientCheck(of: { w in
            var c = conv
            c.weight = w
            return probe(c.forward(x).output, r)
        }, at: conv.weight, analytic: dw, step: FiniteDifference.step)
        let byBias = gradientCheck(of: { b in
            var c = conv
            c.bias = b
            return probe(c.forward(x).output, r)
        }, at: conv.bias, analytic: db, step: FiniteDifference.step)
        #expect(byInput.worst < FiniteDifference.tolerance, "input: \(byInput)")
        #expect(byWeight.worst < FiniteDifference.tolerance, "weight: \(byWeight)")
        #expect(byBias.worst < FiniteDifference.tolerance, "bias: \(byBias)")
    }

    @Test func sameThreadCountGivesIdenticalNumbersAndThreadCountsAgree() {
        var generator = SeededGenerator(seed: 13)
        let conv = Conv2D(inputChannels: 4, outputChannels: 6, kernelSize: 3, padding: .valid, generator: &generator)
        let x = randomTensor([5, 4, 10, 10], seed: 14)
        let r = randomTensor([5, 6, 8, 8], seed: 15)
        let a = run(conv, x, r, kernel: .gemm, threads: 2)
        let b = run(conv, x, r, kernel: .gemm, threads: 2)
        #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3)
        expectSame(run(conv, x, r, kernel: .gemm, threads: 1), a, "1 vs 2 threads")
    }

    @Test func initialisationFollowsPyTorchBounds() {
        var generator = SeededGenerator(seed: 16)
        let conv = Conv2D(inputChannels: 8, outputChannels: 16, kernelSize: 5, padding: .valid, generator: &generator)
        let bound = 1 / Float(8 * 25).squareRoot()
        #expect(conv.weight.max() <= bound && conv.weight.min() >= -bound)
        #expect(conv.weight.max() > 0.9 * bound && conv.weight.min() < -0.9 * bound)
        #expect(conv.bias.max() <= bound && conv.bias.min() >= -bound)
    }
}
