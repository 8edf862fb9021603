/// Colour palettes and colour maps for the figures.
///
/// - `okabeIto`: the eight-colour palette of Okabe & Ito (2008), distinguishable under the common colour
///   vision deficiencies; ordered here for lines and bars on white (yellow last, it is faint on white).
/// - `diverging`: blue-white-red after ColorBrewer's RdBu, for signed values symmetric around 0
///   (perturbation images): v = -limit is blue, 0 is near-white, v = +limit is red. The two arms have
///   matched lightness, so |v| alone sets how far a colour is from white.
/// - `sequential`: white to dark blue after ColorBrewer's Blues, for fractions in [0, 1] (confusion matrices).
public enum Colormap {
    /// Okabe-Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, black, yellow.
    public static let okabeIto: [RGBColor] = [
        RGBColor(hex: 0x0072B2), RGBColor(hex: 0xD55E00), RGBColor(hex: 0x009E73), RGBColor(hex: 0xE69F00),
        RGBColor(hex: 0xCC79A7), RGBColor(hex: 0x56B4E9), RGBColor(hex: 0x000000), RGBColor(hex: 0xF0E442),
    ]

    /// The palette colour for series `index`, cycling after eight.
    public static func seriesColor(_ index: Int) -> RGBColor {
        okabeIto[((index % okabeIto.count) + okabeIto.count) % okabeIto.count]
    }

    /// Diverging control points from t = -1 to t = +1 (RdBu, 5 classes).
    static let divergingStops: [RGBColor] = [
        RGBColor(hex: 0x2166AC), RGBColor(hex: 0x67A9CF), RGBColor(hex: 0xF7F7F7),
        RGBColor(hex: 0xEF8A62), RGBColor(hex: 0xB2182B),
    ]

    /// Sequential control points from t = 0 to t = 1 (Blues).
    static let sequentialStops: [RGBColor] = [
        RGBColor(hex: 0xF7FBFF), RGBColor(hex: 0xC6DBEF), RGBColor(hex: 0x6BAED6),
        RGBColor(hex: 0x2171B5), RGBColor(hex: 0x08306B),
    ]

    /// Grey level for an intensity in [0, 1] (clamped; NaN is black).
    public static func grey(_ value: Double) -> RGBColor {
        let v = value.isNaN ? 0 : min(max(value, 0), 1)
        return RGBColor(red: v, green: v, blue: v)
    }

    /// Blue-white-red colour for a signed value, symmetric around 0: t = clamp(value / limit, -1, 1).
    /// `limit` must be positive.
    public static func diverging(_ value: Double, limit: Double) -> RGBColor {
        precondition(limit > 0, "Colormap.diverging: limit must be positive, got \(limit)")
        let t = value.isNaN ? 0 : min(max(value / limit, -1), 1)
        return interpolate(divergingStops, at: (t + 1) / 2)
    }

    /// White-to-blue colour for a fraction in [0, 1] (clamped).
    public static func sequential(_ fraction: Double) -> RGBColor {
        interpolate(sequentialStops, at: fraction.isNaN ? 0 : min(max(fraction, 0), 1))
    }

    /// Piecewise-linear interpolation through equally spaced stops, `position` in [0, 1].
    static func interpolate(_ stops: [RGBColor], at position: Double) -> RGBColor {
        let scaled = position * Double(stops.count - 1)
        let lower = min(Int(scaled.rounded(.down)), stops.count - 2)
        return stops[lower].mixed(with: stops[lower + 1], scaled - Double(lower))
    }
}
