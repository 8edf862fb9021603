import Foundation
import Testing
import MRIData
import Tensor

@Suite struct NoiseModelTests {
    /// Mean and standard deviation, on the 0...255 scale, of noisy minus clean over `count` pixels of `level`.
    static func moments(_ model: NoiseModel, level: Float, count: Int = 65_536, seed: UInt64 = 1) -> (mean: Double, std: Double) {
        var pixels = [Float](repeating: level, count: count)[...]
        var generator = SeededGenerator(seed: seed, purpose: .imageNoise, index: 0)
        model.apply(to: &pixels, generator: &generator)
        let differences = pixels.map { Double($0 - level) * 255 }
        let mean = differences.reduce(0, +) / Double(count)
        let variance = differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
        return (mean, variance.squareRoot())
    }

    @Test func gaussianHasStandardDeviationSigma() {
        // Mid-grey: 0.5 +- 4 sigma stays inside [0, 1], so clipping does not bias the moments.
        let (mean, std) = Self.moments(.gaussian(sigma: 32), level: 0.5)
        #expect(abs(mean) < 0.5)
        #expect(abs(std - 32) < 0.6)  // standard error of the std here ~ 32 / sqrt(2 x 65536) = 0.09
    }

    @Test func authorsRicianIsAPositiveFieldWithTheStatedMoments() {
        // 16 x Rice(1, 1): mean 16 sqrt(pi/2) L_{1/2}(-1/2) = 24.78, std 16 sqrt(3 - 1.5486^2) = 12.41.
        let (mean, std) = Self.moments(.ricianAuthors(scale: 16), level: 0)
        #expect(abs(mean - 24.78) < 0.3)
        #expect(abs(std - 12.41) < 0.3)
    }

    @Test func magnitudeRicianOfZeroIsRayleigh() {
        // |n1 + i n2| with n ~ N(0, sigma): Rayleigh, mean sigma sqrt(pi / 2).
        let (mean, _) = Self.moments(.ricianMagnitude(sigma: 20), level: 0)
        #expect(abs(mean - 20 * (Double.pi / 2).squareRoot()) < 0.3)
        // On a bright signal the magnitude noise is nearly Gaussian with std sigma.
        let (_, std) = Self.moments(.ricianMagnitude(sigma: 20), level: 0.6)
        #expect(abs(std - 20) < 0.6)
    }

    static func dataset(count: Int = 6, size: Int = 8, level: Float = 0.9) -> MRIDataset {
        MRIDataset(images: Tensor(repeating: level, shape: [count, 1, size, size]), labels: [Int](repeating: 1, count: count),
                   sourceIDs: (0..<count).map { 100 + 7 * $0 }, sourceDescription: "constant")
    }

    @Test func clippedToUnitRangeAndOnlyAtTheGivenIndices() {
        let clean = Self.dataset()
        let noisy = NoiseModel.gaussian(sigma: 64).applied(to: clean, indices: [1, 3], seed: 5)
        #expect(noisy.images.min() >= 0 && noisy.images.max() <= 1)
        #expect(noisy.images.max() == 1)  // 0.9 + N(0, 0.25): some pixels clip
        for i in [0, 2, 4, 5] { #expect(noisy.images.items(i..<(i + 1)) == clean.images.items(i..<(i + 1))) }
        #expect(noisy.images.items(1..<2) != clean.images.items(1..<2))
        #expect(noisy.labels == clean.labels && noisy.sourceIDs == clean.sourceIDs)
    }

    @Test func noiseOfAnImageDependsOnlyOnSeedAndSourceID() {
        let clean = Self.dataset()
        let model = NoiseModel.ricianMagnitude(sigma: 16)
        let all = model.applied(to: clean, indices: Array(0..<6), seed: 9, threads: 2)
        let reversed = model.applied(to: clean, indices: Array((0..<6).reversed()), seed: 9, threads: 1)
        let one = model.applied(to: clean, indices: [4], seed: 9, threads: 1)
        #expect(all == reversed)
        #expect(one.images.items(4..<5) == all.images.items(4..<5))
        // The same image, reached through a subset (a different index), gets the same noise.
        let subset = model.applied(to: clean.subset([4, 0]), indices: [0, 1], seed: 9)
        #expect(subset.images.items(0..<1) == all.images.items(4..<5))
        #expect(model.applied(to: clean, indices: [4], seed: 10).images.items(4..<5) != all.images.items(4..<5))
        #expect(all.images.items(0..<1) != all.images.items(1..<2))
    }

    @Test func sameFieldOptionReusesOneFieldForEveryImage() {
        let clean = Self.dataset(level: 0.2)
        let quirk = NoiseModel.ricianAuthors(scale: 16, sameFieldForEveryImage: true).applied(to: clean, indices: [0, 1, 2], seed: 3)
        #expect(quirk.images.items(0..<1) == quirk.images.items(1..<2))
        #expect(quirk.images.items(0..<1) == quirk.images.items(2..<3))
        let fresh = NoiseModel.ricianAuthors(scale: 16).applied(to: clean, indices: [0, 1], seed: 3)
        #expect(fresh.images.items(0..<1) != fresh.images.items(1..<2))
        #expect(NoiseModel.none.applied(to: clean, indices: [0, 1], seed: 3) == clean)
    }

    @Test func codableRoundTrip() throws {
        for model in [NoiseModel.none, .gaussian(sigma: 32), .ricianAuthors(scale: 16, sameFieldForEveryImage: true), .ricianMagnitude(sigma: 8)] {
            let data = try JSONEncoder().encode(model)
            #expect(try JSONDecoder().decode(NoiseModel.self, from: data) == model)
        }
    }
}
