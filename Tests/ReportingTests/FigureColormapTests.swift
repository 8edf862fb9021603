import Testing
@testable import Reporting

@Suite struct FigureColormapTests {
    @Test func divergingEndpointsAndCentre() {
        #expect(Colormap.diverging(-2, limit: 2) == RGBColor(hex: 0x2166AC))
        #expect(Colormap.diverging(2, limit: 2) == RGBColor(hex: 0xB2182B))
        #expect(Colormap.diverging(-7, limit: 2) == Colormap.diverging(-2, limit: 2), "clamped beyond the limit")
        let centre = Colormap.diverging(0, limit: 0.3)
        #expect(centre.red > 0.95 && centre.green > 0.95 && centre.blue > 0.95, "0 maps to near-white, got \(centre)")
    }

    /// +v and -v are equally far from white (matched lightness), red for positive and blue for negative,
    /// and the distance from white grows with |v|.
    @Test func divergingIsSymmetricAroundZero() {
        var previous = Colormap.diverging(0, limit: 1).luminance
        for step in 1...20 {
            let v = Double(step) / 20
            let positive = Colormap.diverging(v, limit: 1), negative = Colormap.diverging(-v, limit: 1)
            #expect(abs(positive.luminance - negative.luminance) < 0.05, "v = \(v): \(positive) vs \(negative)")
            #expect(positive.red > positive.blue && negative.blue > negative.red)
            let darker = min(positive.luminance, negative.luminance)
            #expect(darker < previous, "lightness must fall as |v| grows")
            previous = darker
        }
    }

    @Test func greyAndSequentialEndpoints() {
        #expect(Colormap.grey(0) == .black && Colormap.grey(1) == .white && Colormap.grey(3) == .white)
        #expect(Colormap.grey(.nan) == .black)
        #expect(Colormap.sequential(0) == RGBColor(hex: 0xF7FBFF) && Colormap.sequential(1) == RGBColor(hex: 0x08306B))
        let luminances = (0...10).map { Colormap.sequential(Double($0) / 10).luminance }
        #expect(zip(luminances, luminances.dropFirst()).allSatisfy { $0 > $1 }, "sequential map must darken monotonically")
    }

    @Test func okabeItoPaletteIsDistinctAndCycles() {
        #expect(Set(Colormap.okabeIto).count == 8)
        #expect(Colormap.seriesColor(0) == RGBColor(hex: 0x0072B2))
        #expect(Colormap.seriesColor(8) == Colormap.seriesColor(0))
        #expect(RGBColor(hex: 0xD55E00).description == "#d55e00")
    }
}
