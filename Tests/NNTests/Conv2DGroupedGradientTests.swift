@testable import NN
import Tensor
import Testing
import TestSupport

/// The weight gradient of small planes summed over a group of images in one sgemm (`Conv2D.gradientGroup`) against the
/// naive loops, and the same bytes at any thread count.
///
/// Tolerance, from float32 rounding: a result that is a sum of K products is formed in another order by sgemm than by
/// the naive loops. Each addition rounds with relative error at most u = 2^-24; with terms of random sign the errors
/// add like a random walk, so the difference between two orders is about sqrt(2 K) u times the typical partial sum,
/// which is the size of the result. We allow 4 standard deviations and both sums' rounding, relative to the largest
/// reference value: tolerance = 4 sqrt(2 K) u. K is the reduction length of the output: N Ho Wo for the weight
/// gradient, Ho Wo for the bias gradient, C K^2 for the output and O K^2 for the input gradient; the largest is used.
@Suite struct Conv2DGroupedGradientTests {
    static func tolerance(reduction k: Int) -> Float {
        4 * (2 * Float(k)).squareRoot() * Float.ulpOfOne / 2
    }

    func run(_ conv: Conv2D, _ x: Tensor, _ r: Tensor, kernel: Conv2D.Kernel, threads: Int) -> [Tensor] {
        let (y, cache) = conv.forward(x, threads: threads, kernel: kernel)
        var dw = Tensor(zeros: conv.weight.shape), db = Tensor(zeros: conv.bias.shape)
        let dx = conv.backward(dout: r, cache: cache, dweight: &dw, dbias: &db, threads: threads, kernel: kernel)
        return [y, dx, dw, db]
    }

    /// Channels in, out, kernel, padding, height, width, images: planes below `groupedReduction`, batches with more
    /// images than the reduction's pieces (so a piece holds a group of 2-3), plane sizes that leave vector tails.
    static let cases: [(Int, Int, Int, Conv2D.Padding, Int, Int, Int)] = [
        (6, 8, 3, .same, 6, 7, 19), (5, 3, 5, .valid, 9, 8, 17), (16, 16, 3, .same, 8, 8, 32), (3, 4, 3, .same, 15, 16, 24),
    ]

    @Test(arguments: cases)
    func groupedWeightGradientMatchesNaiveAndIsTheSameAtAnyThreadCount(_ shape: (Int, Int, Int, Conv2D.Padding, Int, Int, Int)) {
        let (c, o, k, padding, h, w, n) = shape
        var generator = SeededGenerator(seed: 21)
        let conv = Conv2D(inputChannels: c, outputChannels: o, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([n, c, h, w], seed: 22)
        let ho = conv.outputSize(h), wo = conv.outputSize(w)
        let r = randomTensor([n, o, ho, wo], seed: 23)
        let g = conv.geometry(x)
        let group = Conv2D.gradientGroup(g)
        #expect(group > 1 && n / Parallel.reductionPieces >= 2, "the case must group images: group \(group), \(n) images")
        let naive = run(conv, x, r, kernel: .naive, threads: 1)
        let one = run(conv, x, r, kernel: .gemm, threads: 1)
        let tolerance = Self.tolerance(reduction: Swift.max(n * ho * wo, c * k * k, o * k * k))
        for (name, index) in [("output", 0), ("input gradient", 1), ("weight gradient", 2), ("bias gradient", 3)] {
            #expect(relativeError(one[index], naive[index]) < tolerance, "\(name) \(shape): tolerance \(tolerance)")
        }
        for threads in [2, 3] {
            let other = run(conv, x, r, kernel: .gemm, threads: threads)
            #expect(other.map { $0.scalars.map(\.bitPattern) } == one.map { $0.scalars.map(\.bitPattern) }, "\(threads) threads \(shape)")
        }
    }
}
