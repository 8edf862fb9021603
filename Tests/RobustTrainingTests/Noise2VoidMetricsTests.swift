import Foundation
import RobustTraining
import Tensor
import Testing

@Suite struct Noise2VoidMetricsTests {
    /// The images of tools/ssim_reference.py (23 x 29), computed in Double and stored as Float.
    func referenceImages() -> (a: [Float], b: [Float], h: Int, w: Int) {
        let h = 23, w = 29
        var a: [Float] = [], b: [Float] = []
        for y in 0..<h {
            for x in 0..<w {
                let (xd, yd) = (Double(x), Double(y))
                let av = 0.5 + 0.4 * sin(0.3 * xd) * cos(0.2 * yd)
                let bv = min(max(av + 0.1 * sin(1.7 * xd + 2.3 * yd) + 0.05 * cos(0.9 * xd * yd), 0), 1)
                a.append(Float(av))
                b.append(Float(bv))
            }
        }
        return (a, b, h, w)
    }

    @Test func identicalImagesHaveSSIMOneAndInfinitePSNR() {
        let (a, _, h, w) = referenceImages()
        #expect(abs(DenoisingMetrics.ssim(a, reference: a, height: h, width: w) - 1) < 1e-12)
        #expect(DenoisingMetrics.psnr(a, reference: a) == .infinity)
    }

    @Test func aConstantOffsetHasTheClosedFormPSNR() {
        let (a, _, _, _) = referenceImages()
        for offset: Float in [0.01, 0.1, 0.25] {
            let shifted = a.map { $0 + offset }
            let expected = -10 * log10(Double(offset) * Double(offset))
            #expect(abs(DenoisingMetrics.psnr(shifted, reference: a) - expected) < 1e-3)
        }
    }

    /// Numbers from `python3 tools/ssim_reference.py` (numpy + scipy, the scikit-image definition).
    @Test func matchesTheReferenceImplementation() {
        let (a, b, h, w) = referenceImages()
        #expect(abs(DenoisingMetrics.ssim(b, reference: a, height: h, width: w) - 0.7315782269) < 1e-5)
        #expect(abs(DenoisingMetrics.psnr(b, reference: a) - 22.0430094736) < 1e-4)
    }

    @Test func classicalFiltersKeepConstantsAndSmoothNoise() {
        var generator = SeededGenerator(seed: 3)
        let constant = Tensor(repeating: 0.4, shape: [1, 1, 9, 10])
        #expect(DenoisingFilters.gaussian(constant, sigma: 1).maxAbsDifference(constant) < 1e-6)
        #expect(DenoisingFilters.median3x3(constant) == constant)
        let noisy = constant + Tensor(randomNormal: [1, 1, 9, 10], standardDeviation: 0.1, generator: &generator)
        let before = noisy.maxAbsDifference(constant)
        #expect(DenoisingFilters.gaussian(noisy, sigma: 1).maxAbsDifference(constant) < before / 2)
        // A single outlier disappears under the median.
        var spike = constant
        spike.scalars[45] = 1
        #expect(DenoisingFilters.median3x3(spike) == constant)
    }
}
