import NN
import Tensor
import Testing
import TestSupport

@Suite struct UpsampleTests {
    @Test(arguments: [(3, 4, 6, 8), (3, 4, 7, 9), (2, 5, 5, 11)])
    func upsampleGradientMatchesFiniteDifferences(h: Int, w: Int, height: Int, width: Int) {
        let x = randomTensor([2, 3, h, w], seed: 21)
        let r = randomTensor([2, 3, height, width], seed: 22)
        let (y, cache) = Upsample2D.forward(x, height: height, width: width, threads: 2)
        #expect(y.shape == [2, 3, height, width])
        let dx = Upsample2D.backward(dout: r, cache: cache, threads: 2)
        let check = gradientCheck(of: { probe(Upsample2D.forward($0, height: height, width: width).output, r) },
                                  at: x, analytic: dx, step: FiniteDifference.step)
        #expect(check.worst < FiniteDifference.tolerance, "\(check)")
    }

    @Test func upsampleCopiesTheNearestInputPixel() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let y = Upsample2D.forward(x, height: 5, width: 4).output
        #expect(y.scalars == [1, 1, 2, 2,
                              1, 1, 2, 2,
                              3, 3, 4, 4,
                              3, 3, 4, 4,
                              3, 3, 4, 4])
    }
}

@Suite struct ConcatenateTests {
    @Test func concatenationGradientMatchesFiniteDifferences() {
        let a = randomTensor([2, 3, 4, 5], seed: 23), b = randomTensor([2, 2, 4, 5], seed: 24)
        let r = randomTensor([2, 5, 4, 5], seed: 25)
        let y = Concatenate.forward(a, b)
        #expect(y.shape == [2, 5, 4, 5])
        let (da, db) = Concatenate.backward(dout: r, firstChannels: 3)
        let byA = gradientCheck(of: { probe(Concatenate.forward($0, b), r) }, at: a, analytic: da, step: FiniteDifference.step)
        let byB = gradientCheck(of: { probe(Concatenate.forward(a, $0), r) }, at: b, analytic: db, step: FiniteDifference.step)
        #expect(byA.worst < FiniteDifference.tolerance, "a: \(byA)")
        #expect(byB.worst < FiniteDifference.tolerance, "b: \(byB)")
        // Image 1, channel 3 of the output is image 1, channel 0 of b.
        #expect(Array(y.scalars[(5 + 3) * 20..<(5 + 4) * 20]) == Array(b.scalars[2 * 20..<3 * 20]))
    }
}
