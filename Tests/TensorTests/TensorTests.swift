import Testing
import Tensor
import TestSupport

@Suite struct TensorTests {
    @Test func matmulMatchesNaiveLoopsForEveryTranspose() {
        var g = SeededGenerator(seed: 1)
        let a = Tensor(randomNormal: [5, 7], generator: &g)
        let b = Tensor(randomNormal: [7, 3], generator: &g)
        func naive(_ a: Tensor, _ b: Tensor) -> Tensor {
            var out = Tensor(zeros: [a.shape[0], b.shape[1]])
            for i in 0..<a.shape[0] { for j in 0..<b.shape[1] {
                var s: Float = 0
                for k in 0..<a.shape[1] { s += a.scalars[i * a.shape[1] + k] * b.scalars[k * b.shape[1] + j] }
                out.scalars[i * b.shape[1] + j] = s
            } }
            return out
        }
        func transposed(_ t: Tensor) -> Tensor {
            var out = Tensor(zeros: [t.shape[1], t.shape[0]])
            for i in 0..<t.shape[0] { for j in 0..<t.shape[1] { out.scalars[j * t.shape[0] + i] = t.scalars[i * t.shape[1] + j] } }
            return out
        }
        let reference = naive(a, b)
        #expect(relativeError(a.matmul(b), reference) < 1e-5)
        #expect(relativeError(transposed(a).matmul(b, transposeSelf: true), reference) < 1e-5)
        #expect(relativeError(a.matmul(transposed(b), transposeOther: true), reference) < 1e-5)
        #expect(relativeError(transposed(a).matmul(transposed(b), transposeSelf: true, transposeOther: true), reference) < 1e-5)
    }

    @Test func generatorIsReproducibleAndStreamsDiffer() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        let xs = (0..<100).map { _ in a.next() }
        let ys = (0..<100).map { _ in b.next() }
        #expect(xs == ys)
        var s0 = SeededGenerator(seed: 42, purpose: .imageNoise, index: 0)
        var s1 = SeededGenerator(seed: 42, purpose: .imageNoise, index: 1)
        #expect(s0.next() != s1.next())
    }

    @Test func gaussianSamplesHaveUnitMoments() {
        var g = SeededGenerator(seed: 3)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n { let v = Double(g.nextGaussian()); sum += v; sumSq += v * v }
        let mean = sum / Double(n)
        let variance = sumSq / Double(n) - mean * mean
        // Standard error of the mean is 1/sqrt(n) ~ 0.0022; of the variance ~ sqrt(2/n) ~ 0.0032.
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
    }

    @Test func permutationIsAPermutation() {
        var g = SeededGenerator(seed: 9)
        let p = g.permutation(1000)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != Array(0..<1000))
    }

    @Test func parallelChunksCoverTheRangeExactlyOnce() {
        for count in [0, 1, 7, 64] {
            for chunks in [1, 2, 3, 8] {
                var covered = [Int](repeating: 0, count: count)
                covered.withUnsafeMutableBufferPointer { buffer in
                    let box = UncheckedSendable(buffer)
                    Parallel.forEachChunk(count: count, chunks: chunks) { _, range in
                        for i in range { box.value[i] += 1 }
                    }
                }
                #expect(covered.allSatisfy { $0 == 1 })
            }
        }
    }

    @Test func concatenatingAndGatheringItems() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [1, 3], scalars: [7, 8, 9])
        let joined = Tensor.concatenated([a, b])
        #expect(joined.shape == [3, 3] && joined.scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(joined.gathered(items: [2, 0, 2]).scalars == [7, 8, 9, 1, 2, 3, 7, 8, 9])
        #expect(joined.gathered(items: []).shape == [0, 3])
        let bytes: [UInt8] = [1, 2, 3, 4]
        #expect(bytes.gatheredItems([1, 0], shape: [2, 2]) == [3, 4, 1, 2])
    }
}

