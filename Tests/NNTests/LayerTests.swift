import NN
import Tensor
import Testing
import TestSupport

@Suite struct LayerTests {
    @Test(arguments: [Mode.training, .evaluation])
    func batchNormGradientsMatchFiniteDifferences(mode: Mode) {
        var bn = BatchNorm2D(channels: 3)
        bn.weight = randomTensor([3], seed: 1) + Tensor(repeating: 1.5, shape: [3])
        bn.bias = randomTensor([3], seed: 2)
        bn.runningMean = randomTensor([3], seed: 3)
        bn.runningVar = randomTensor([3], seed: 4) + Tensor(repeating: 1.5, shape: [3])
        let x = randomTensor([3, 3, 5, 7], seed: 5)
        let r = randomTensor([3, 3, 5, 7], seed: 6)
        let (_, cache) = bn.normalized(x, mode: mode, threads: 2)
        var dgamma = Tensor(zeros: [3]), dbeta = Tensor(zeros: [3])
        let dx = bn.backward(dout: r, cache: cache, dweight: &dgamma, dbias: &dbeta, threads: 2)
        let step = FiniteDifference.step
        let byInput = gradientCheck(of: { probe(bn.normalized($0, mode: mode).output, r) }, at: x, analytic: dx, step: step)
        let byWeight = gradientCheck(of: { g in
            var b = bn
            b.weight = g
            return probe(b.normalized(x, mode: mode).output, r)
        }, at: bn.weight, analytic: dgamma, step: step)
        let byBias = gradientCheck(of: { g in
            var b = bn
            b.bias = g
            return probe(b.normalized(x, mode: mode).output, r)
        }, at: bn.bias, analytic: dbeta, step: step)
        #expect(byInput.worst < FiniteDifference.tolerance, "input: \(byInput)")
        #expect(byWeight.worst < FiniteDifference.tolerance, "weight: \(byWeight)")
        #expect(byBias.worst < FiniteDifference.tolerance, "bias: \(byBias)")
    }

    @Test func batchNormTrainingUpdatesRunningStatisticsLikePyTorch() {
        var bn = BatchNorm2D(channels: 2)
        let x = randomTensor([3, 2, 2, 2], seed: 7)
        let (y, _) = bn.forward(x, mode: .training)
        for ch in 0..<2 {
            var values: [Double] = []
            for i in 0..<3 { for j in 0..<4 { values.append(Double(x.scalars[(i * 2 + ch) * 4 + j])) } }
            let mean = values.reduce(0, +) / 12
            let biased = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
            #expect(isClose(bn.runningMean.scalars[ch], Float(0.1 * mean)))
            #expect(isClose(bn.runningVar.scalars[ch], Float(0.9 + 0.1 * biased * 12 / 11)))
            let first = Double(y.scalars[ch * 4])
            #expect(isClose(Float(first), Float((values[0] - mean) / (biased + 1e-5).squareRoot()), relative: 1e-4))
        }
        #expect(bn.numBatchesTracked == 1)
        let (z, _) = bn.forward(x, mode: .evaluation)
        let expected = (x.scalars[0] - bn.runningMean.scalars[0]) / (bn.runningVar.scalars[0] + 1e-5).squareRoot()
        #expect(isClose(z.scalars[0], expected, relative: 1e-5))
        #expect(bn.numBatchesTracked == 1)
    }

    @Test func reluGradientMatchesFiniteDifferences() {
        let x = randomTensor([2, 3, 4, 4], seed: 8)
        let r = randomTensor([2, 3, 4, 4], seed: 9)
        let (_, cache) = ReLU.forward(x)
        let dx = ReLU.backward(dout: r, cache: cache)
        let check = gradientCheck(of: { probe(ReLU.forward($0).output, r) }, at: x, analytic: dx, step: FiniteDifference.step)
        #expect(check.worst < FiniteDifference.tolerance, "\(check)")
    }

    @Test func maxPoolGradientMatchesFiniteDifferencesOnOddSizes() {
        let x = randomTensor([2, 2, 5, 7], seed: 10)
        let r = randomTensor([2, 2, 2, 3], seed: 11)
        let (y, cache) = MaxPool2D.forward(x, threads: 2)
        #expect(y.shape == [2, 2, 2, 3])
        let dx = MaxPool2D.backward(dout: r, cache: cache, threads: 2)
        let check = gradientCheck(of: { probe(MaxPool2D.forward($0).output, r) }, at: x, analytic: dx, step: FiniteDifference.step)
        #expect(check.worst < FiniteDifference.tolerance, "\(check)")
    }

    @Test func maxPoolTiesGoToTheFirstPositionInTheWindow() {
        // Windows: all equal; max at (0,1) and (1,1); max at (1,0) and (1,1).
        let x = Tensor(shape: [1, 1, 2, 6], scalars: [3, 3, 1, 5, 0, 0,
                                                      3, 3, 2, 5, 4, 4])
        let (y, cache) = MaxPool2D.forward(x)
        #expect(y.scalars == [3, 5, 4])
        let dx = MaxPool2D.backward(dout: Tensor(shape: [1, 1, 1, 3], scalars: [1, 2, 3]), cache: cache)
        #expect(dx.scalars == [1, 0, 0, 2, 0, 0,
                               0, 0, 0, 0, 3, 0])
    }

    @Test func linearGradientsMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 12)
        let linear = Linear(inputCount: 7, outputCount: 3, generator: &generator)
        let x = randomTensor([4, 7], seed: 13)
        let r = randomTensor([4, 3], seed: 14)
        let (_, cache) = linear.forward(x)
        var dw = Tensor(zeros: [3, 7]), db = Tensor(zeros: [3])
        let dx = linear.backward(dout: r, cache: cache, dweight: &dw, dbias: &db)
        let step = FiniteDifference.step
        let byInput = gradientCheck(of: { probe(linear.forward($0).output, r) }, at: x, analytic: dx, step: step)
        let byWeight = gradientCheck(of: { w in
            var l = linear
            l.weight = w
            return probe(l.forward(x).output, r)
        }, at: linear.weight, analytic: dw, step: step)
        let byBias = gradientCheck(of: { b in
            var l = linear
            l.bias = b
            return probe(l.forward(x).output, r)
        }, at: linear.bias, analytic: db, step: step)
        #expect(byInput.worst < FiniteDifference.tolerance, "input: \(byInput)")
        #expect(byWeight.worst < FiniteDifference.tolerance, "weight: \(byWeight)")
        #expect(byBias.worst < FiniteDifference.tolerance, "bias: \(byBias)")
    }

    @Test func weightedCrossEntropyMatchesDefinitionAndFiniteDifferences() {
        let logits = randomTensor([4, 3], seed: 15).scaled(by: 3)
        let labels = [0, 2, 1, 2]
        let weights: [Float] = [0.5, 2, 0, 1.25]
        let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, weights: weights)
        var expected = 0.0
        for i in 0..<4 {
            let row = (0..<3).map { Double(logits.scalars[i * 3 + $0]) }
            let li = Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +)) - row[labels[i]]
            #expect(isClose(result.losses[i], Float(li), relative: 1e-5))
            expected += Double(weights[i]) * li
        }
        #expect(isClose(result.loss, Float(expected / 4), relative: 1e-5))
        let check = gradientCheck(of: { Double(SoftmaxCrossEntropy.evaluate(logits: $0, labels: labels, weights: weights).loss) },
                                  at: logits, analytic: result.dlogits, step: FiniteDifference.step)
        #expect(check.worst < FiniteDifference.tolerance, "\(check)")
        // Stable for huge logits.
        let huge = SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [1, 3], scalars: [1000, 0, -1000]), labels: [1])
        #expect(huge.loss.isFinite && isClose(huge.loss, 1000, relative: 1e-5))
        #expect(huge.dlogits.isFinite)
    }
}

import Foundation

@Suite struct FusedBlockTests {
    @Test(arguments: [Mode.training, .evaluation])
    func fusedBatchNormReLUPoolMatchesTheLayersInSequence(mode: Mode) {
        var bn = BatchNorm2D(channels: 3)
        bn.weight = randomTensor([3], seed: 1) + Tensor(repeating: 1.2, shape: [3])
        bn.bias = randomTensor([3], seed: 2).scaled(by: 0.5)
        bn.runningMean = randomTensor([3], seed: 3).scaled(by: 0.2)
        bn.runningVar = randomTensor([3], seed: 4).scaled(by: 0.3) + Tensor(repeating: 1, shape: [3])
        let x = randomTensor([4, 3, 7, 9], seed: 5)
        let r = randomTensor([4, 3, 3, 4], seed: 6)
        // Reference: the three layers.
        let (normalized, bnCache) = bn.normalized(x, mode: mode)
        let (activated, reluCache) = ReLU.forward(normalized)
        let (pooled, poolCache) = MaxPool2D.forward(activated)
        let dactivated = MaxPool2D.backward(dout: r, cache: poolCache)
        let dnormalized = ReLU.backward(dout: dactivated, cache: reluCache)
        let reference = bn.backward(dout: dnormalized, cache: bnCache)
        for threads in [1, 2] {
            let (fused, cache) = BatchNormReLUPool.forward(x, batchNorm: bn, mode: mode, threads: threads)
            #expect(fused == pooled, "forward, \(threads) threads")
            let (din, dgamma, dbeta) = BatchNormReLUPool.backward(dout: r, cache: cache, batchNorm: bn, threads: threads)
            #expect(relativeError(din, reference.din) < kernelTolerance, "din, \(threads) threads")
            #expect(relativeError(Tensor(shape: [3], scalars: dgamma), Tensor(shape: [3], scalars: reference.dweight)) < kernelTolerance)
            #expect(relativeError(Tensor(shape: [3], scalars: dbeta), Tensor(shape: [3], scalars: reference.dbias)) < kernelTolerance)
        }
    }
}
