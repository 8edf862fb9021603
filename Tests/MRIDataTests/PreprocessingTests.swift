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
