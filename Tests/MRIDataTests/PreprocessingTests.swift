import Testing
import MRIData
import Tensor

@Suite struct PreprocessingTests {
    @Test func areaAveragingShrinksBlocksExactly() {
        // 4x4 -> 2x2: each output is the mean of a 2x2 block.
        let input: [Float] = (0..<16).map(Float.init)
        let out = Preprocessing.resized(input, from: 4, to: 2)
        #expect(out == [2.5, 4.5, 10.5, 12.5])
        // 3 -> 2 (non-integer ratio): weights 2/3 and 1/3 across the middle sample; sum preserved.
        let taps = Preprocessing.resamplingTaps(from: 3, to: 2)
        #expect(taps[0].count == 2 && abs(taps[0][0].weight - 2.0 / 3) < 1e-6)
        for t in taps { #expect(abs(t.reduce(0) { $0 + $1.weight } - 1) < 1e-6) }
    }

    @Test func bilinearEnlargingKeepsConstantsAndRamps() {
        let constant = Preprocessing.resized([Float](repeating: 0.25, count: 9), from: 3, to: 7)
        #expect(constant.allSatisfy { abs($0 - 0.25) < 1e-6 })
        // A ramp along columns stays monotone and within its range.
        let ramp: [Float] = (0..<4).flatMap { _ in [0, 1, 2, 3].map(Float.init) }
        let big = Preprocessing.resized(ramp, from: 4, to: 8)
        let row = Array(big[0..<8])
        #expect(row == row.sorted() && row.first == 0 && row.last == 3)
        #expect(abs(row[1] - 0.25) < 1e-6)  // source position 0.25 between samples 0 and 1
    }

    @Test func normalisationAndQuantisation() {
        #expect(Preprocessing.normalizedToUnitMaximum([0, 0, 0]) == [0, 0, 0])
        #expect(Preprocessing.normalizedToUnitMaximum([-2, 1, 4]) == [0, 0.25, 1])
        let out = Preprocessing.preprocessed(pixels: [0, 100, 300, 1000], width: 2, height: 2, size: 2)
        #expect(out == [0, 26 / 255, 77 / 255, 1])  // 0.1 * 255 = 25.5 -> 26; 0.3 * 255 = 76.5 -> 77
        #expect(Preprocessing.preprocessed(pixels: [Float](repeating: 0, count: 16), width: 4, height: 4, size: 2) == [0, 0, 0, 0])
    }

    @Test func nonSquareImagesArePaddedCentred() {
        // 4 wide x 2 high of ones -> 4x4 with rows 1, 2 set.
        let padded = Preprocessing.paddedToSquare([Float](repeating: 1, count: 8), width: 4, height: 2)
        #expect(padded == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
        let mask = Preprocessing.preprocessedMask([Float](repeating: 1, count: 8), width: 4, height: 2, size: 2)
        #expect(mask == [1, 1, 1, 1])  // each 2x2 block is half covered: 0.5 >= 0.5
    }

    @Test func polygonFillMatchesAreas() {
        let square = PolygonFill.mask(points: [(2, 2), (6, 2), (6, 6), (2, 6)], size: 8)
        #expect(square.reduce(0, +) == 16)
        #expect(square[2 * 8 + 2] == 1 && square[6 * 8 + 6] == 0 && square[1 * 8 + 2] == 0)
        // Right triangle of legs 40: area 800, pixel count within the perimeter's worth.
        let triangle = PolygonFill.mask(points: [(0, 0), (40, 0), (0, 40)], size: 64)
        #expect(abs(triangle.reduce(0, +) - 800) < 45)
        #expect(PolygonFill.mask(points: [(0, 0), (3, 3)], size: 4).allSatisfy { $0 == 0 })
        #expect(PolygonFill.points(fromBorder: "1 2 3") == nil)
        #expect(PolygonFill.points(fromBorder: "1 2 3 x") == nil)
    }
}

@Suite struct IntensityMappingTests {
    @Test func mappingsAgreeWithTheirDefinitions() {
        #expect(IntensityMapping.unitMaximum.applied(to: [-2, 1, 4]) == [0, 0.25, 1])
        #expect(IntensityMapping.minMax.applied(to: [-1000, 0, 1000]) == [0, 0.5, 1])
        #expect(IntensityMapping.minMax.applied(to: [3, 3]) == [0, 0])
        // 0...100: percentiles are the values themselves; numpy.percentile(range(101), [10, 90]) == [10, 90].
        let ramp = (0...100).map(Float.init)
        let clipped = IntensityMapping.percentiles(low: 10, high: 90).applied(to: ramp)
        #expect(clipped[0] == 0 && clipped[10] == 0 && clipped[50] == 0.5 && clipped[90] == 1 && clipped[100] == 1)
        // Interpolated: numpy.percentile([0, 10, 20, 30], 50) == 15.
        #expect(IntensityMapping.percentile(50, ofSorted: [0, 10, 20, 30]) == 15)
        #expect(IntensityMapping.percentile(100, ofSorted: [0, 10, 20, 30]) == 30)
        // One hot pixel no longer darkens the slice.
        let hot = [Float](repeating: 100, count: 300) + (0..<700).map { Float($0 % 100) } + [60_000]
        #expect((IntensityMapping.percentiles(low: 0.5, high: 99.5).applied(to: hot).max() ?? 0) == 1)
        #expect((IntensityMapping.unitMaximum.applied(to: hot)[0]) < 0.01)
        // Mostly one value: the percentiles meet, and min-max applies.
        #expect(IntensityMapping.percentiles(low: 1, high: 99).applied(to: [0] + [Float](repeating: 5, count: 200) + [10]).last == 1)
    }

    /// Finite values spanning more than Float's range (a float NIfTI volume from -3.4e38 to 3.4e38, which the
    /// nifti fuzz target's [0, 1] check would have caught): top - bottom overflowed to infinity and the top value
    /// came out NaN. The mappings stay in [0, 1].
    @Test func valuesSpanningMoreThanFloatsRangeMapIntoTheUnitInterval() {
        let widest = Float.greatestFiniteMagnitude
        #expect(IntensityMapping.minMax.applied(to: [-widest, 0, widest]) == [0, 0.5, 1])
        #expect(IntensityMapping.percentile(50, ofSorted: [-widest, widest]) == 0)
        let wide = [-widest] + (0..<98).map { Float($0) } + [widest]
        #expect(IntensityMapping.percentiles(low: 0, high: 100).applied(to: wide) == IntensityMapping.minMax.applied(to: wide))
        #expect(IntensityMapping.percentiles(low: 0, high: 100).applied(to: wide).allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func standardDependsOnTheFormatAndSettingsAreChecked() {
        #expect(IntensityMapping.standard.resolved(for: .jpeg) == .unitMaximum)
        #expect(IntensityMapping.standard.resolved(for: .figshareMat) == .unitMaximum)
        #expect(IntensityMapping.standard.resolved(for: .dicom) == .minMax)
        #expect(IntensityMapping.standard.resolved(for: .nifti) == .minMax)
        #expect(IntensityMapping.minMax.resolved(for: .png) == .minMax)
        #expect(IntensityMapping.percentiles(low: 0.5, high: 99.5).problem == nil)
        #expect(IntensityMapping.percentiles(low: 50, high: 50).problem != nil)
        #expect(IntensityMapping.percentiles(low: -1, high: 50).problem != nil)
    }
}
