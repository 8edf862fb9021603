import CKernels
@testable import NN
import Tensor
import Testing
import TestSupport

/// The first layer's weight gradient by the direct C kernel (`Conv2D.directWeightGradient`, one input channel) on
/// every instruction-set path, against the naive loops.
///
/// Tolerance, from float32 rounding: each dweight[o, ky, kx] is a sum of K = N Ho Wo products (dbias of K sums), which
/// the kernel adds in another order than the naive loops. Each addition rounds with relative error at most u = 2^-24;
/// with terms of random sign the errors add like a random walk, so two orders differ by about sqrt(2 K) u times the
/// typical partial sum, the size of the result. We allow 4 standard deviations, relative to the largest reference
/// value: tolerance = 4 sqrt(2 K) u. The paths add in one order (16 lanes on each, no fused multiply-add): the same
/// bytes on every path and at any thread count.
@Suite struct DirectWeightGradientTests {
    /// Padding, kernel, height, width, output channels, images: widths below, at and past 16 lanes (tails of the
    /// 16-wide chunks), 9 and 25 taps (a full block of 9 and a remainder), more images than the reduction's pieces.
    static let cases: [(Conv2D.Padding, Int, Int, Int, Int, Int)] = [
        (.same, 3, 13, 11, 4, 3), (.same, 3, 16, 16, 7, 9), (.valid, 5, 21, 37, 5, 2), (.same, 5, 9, 33, 1, 10),
        (.valid, 3, 6, 18, 32, 4),
    ]

    @Test(arguments: cases)
    func everyPathMatchesTheNaiveLoopsAndAgreesToTheBit(_ shape: (Conv2D.Padding, Int, Int, Int, Int, Int)) {
        let (padding, k, h, w, outputs, n) = shape
        var generator = SeededGenerator(seed: 31)
        let conv = Conv2D(inputChannels: 1, outputChannels: outputs, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([n, 1, h, w], seed: 32)
        let r = randomTensor([n, outputs, conv.outputSize(h), conv.outputSize(w)], seed: 33)
        let (_, cache) = conv.forward(x, kernel: .naive)
        var naiveWeight = Tensor(zeros: conv.weight.shape), naiveBias = Tensor(zeros: conv.bias.shape)
        _ = conv.backward(dout: r, cache: cache, dweight: &naiveWeight, dbias: &naiveBias, kernel: .naive)
        let g = conv.geometry(x)
        let tolerance = 4 * (2 * Float(n * g.ho * g.wo)).squareRoot() * Float.ulpOfOne / 2
        let pieces = Swift.min(Parallel.reductionPieces, n)
        var first: [Float]?
        for isa in KernelISA.supported {
            for threads in [1, 2] {
                var parts = [Float](repeating: 0, count: pieces * (g.o * g.k * g.k + g.o))
                withPointer(x) { inp in
                    withPointer(r) { dy in
                        parts.withUnsafeMutableBufferPointer { buffer in
                            let base = buffer.baseAddress!
                            let work = Conv2D.BackwardBuffers(dweight: base, dbias: base + pieces * g.o * g.k * g.k, din: nil)
                            Conv2D.directWeightGradient(g, inp, dy, work, pieces: pieces, threads: threads, isa: isa)
                        }
                    }
                }
                // The pieces' sums in piece order, as `Conv2D` adds them.
                let size = g.o * g.k * g.k
                var dweight = [Float](repeating: 0, count: size), dbias = [Float](repeating: 0, count: g.o)
                for piece in 0..<pieces {
                    for i in 0..<size { dweight[i] += parts[piece * size + i] }
                    for o in 0..<g.o { dbias[o] += parts[pieces * size + piece * g.o + o] }
                }
                #expect(relativeError(Tensor(shape: conv.weight.shape, scalars: dweight), naiveWeight) < tolerance,
                        "\(isa), \(threads) threads, \(shape): weight, tolerance \(tolerance)")
                #expect(relativeError(Tensor(shape: [g.o], scalars: dbias), naiveBias) < tolerance, "\(isa) \(shape): bias")
                if let first {
                    #expect(first.map(\.bitPattern) == (dweight + dbias).map(\.bitPattern), "\(isa), \(threads) threads, \(shape)")
                } else {
                    first = dweight + dbias
                }
            }
        }
    }
}
