/// How a decoded slice's values (any scale: 8-bit grey, 16-bit PNG, CT in Hounsfield units, MR in scanner
/// units) become [0, 1], per slice, before padding and resizing (`Preprocessing`).
///
/// Saved in `config.json` with the data settings (`ImageReading`); `predict` applies the run's mapping.
public enum IntensityMapping: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Each format's own (`resolved(for:)`): `unitMaximum` for JPEG, PNG and figshare `.mat` slices (the
    /// authors' preprocessing), `minMax` for DICOM and NIfTI, whose values can be negative (CT: air is
    /// -1000 HU) or sit on an offset.
    case standard
    /// x / max(x), negatives clipped to 0; an image whose maximum is <= 0 becomes all zeros.
    case unitMaximum
    /// (x - min) / (max - min); a constant image becomes all zeros.
    case minMax
    /// x clipped to [P_low, P_high], the slice's `low` and `high` percentiles (0...100, linear
    /// interpolation between order statistics, as numpy's default), then (x - P_low) / (P_high - P_low).
    /// One hot pixel (or a metal implant) then no longer darkens the whole 16-bit slice. Where
    /// P_high = P_low (a slice that is mostly one value) it falls back to `minMax`.
    case percentiles(low: Double, high: Double)

    /// The mapping `standard` stands for with images of `format`; any other mapping is itself.
    public func resolved(for format: ImageFileFormat) -> IntensityMapping {
        guard self == .standard else { return self }
        switch format {
        case .jpeg, .png, .figshareMat: return .unitMaximum
        case .dicom, .nifti: return .minMax
        }
    }

    public var description: String {
        switch self {
        case .standard: return "standard (x / max for JPEG, PNG and .mat; min-max for DICOM and NIfTI)"
        case .unitMaximum: return "x / max"
        case .minMax: return "min-max"
        case .percentiles(let low, let high): return "percentiles \(low)-\(high), clipped, then min-max"
        }
    }

    /// An error message when the percentiles are out of order or outside 0...100; nil when valid.
    public var problem: String? {
        guard case .percentiles(let low, let high) = self else { return nil }
        guard low >= 0, high <= 100, low < high else {
            return "percentiles \(low) and \(high) must satisfy 0 <= low < high <= 100"
        }
        return nil
    }

    /// `pixels` mapped to [0, 1]. `self` must be resolved (not `.standard`): see `resolved(for:)`.
    public func applied(to pixels: [Float]) -> [Float] {
        switch self {
        case .standard:
            preconditionFailure("IntensityMapping.applied: resolve .standard for the image's format first")
        case .unitMaximum:
            let peak = pixels.max() ?? 0
            guard peak > 0 else { return [Float](repeating: 0, count: pixels.count) }
            return pixels.map { Swift.max(0, $0) / peak }
        case .minMax:
            return Self.stretched(pixels, from: pixels.min() ?? 0, to: pixels.max() ?? 0)
        case .percentiles(let low, let high):
            let sorted = pixels.sorted()
            let bottom = Self.percentile(low, ofSorted: sorted), top = Self.percentile(high, ofSorted: sorted)
            guard top > bottom else { return Self.stretched(pixels, from: sorted.first ?? 0, to: sorted.last ?? 0) }
            return Self.stretched(pixels, from: bottom, to: top)
        }
    }

    /// (clip(x, bottom, top) - bottom) / (top - bottom); all zeros when top <= bottom. Where top - bottom exceeds
    /// Float's range (finite values beyond +-1.7e38 on both sides, as a float NIfTI volume may hold) it is taken
    /// in Double, which a Float range cannot exceed: in Float it would be infinite, and the top value NaN.
    static func stretched(_ pixels: [Float], from bottom: Float, to top: Float) -> [Float] {
        guard top > bottom else { return [Float](repeating: 0, count: pixels.count) }
        let range = top - bottom
        guard range.isFinite else {
            let wideRange = Double(top) - Double(bottom)
            return pixels.map { Float((Double(Swift.min(Swift.max($0, bottom), top)) - Double(bottom)) / wideRange) }
        }
        return pixels.map { (Swift.min(Swift.max($0, bottom), top) - bottom) / range }
    }

    /// The p-th percentile (0...100) of ascending `sorted` values: rank r = p / 100 (n - 1), interpolated
    /// linearly between the order statistics floor(r) and ceil(r).
    public static func percentile(_ p: Double, ofSorted sorted: [Float]) -> Float {
        guard let first = sorted.first else { return 0 }
        let rank = p / 100 * Double(sorted.count - 1)
        let below = Int(rank.rounded(.down)), above = Swift.min(below + 1, sorted.count - 1)
        let fraction = Float(rank - Double(below))
        guard below < sorted.count - 1 else { return sorted.last ?? first }
        let low = sorted[below], gap = sorted[above] - low
        // A gap beyond Float's range (as in `stretched`) is taken in Double; the result lies between the two values.
        guard gap.isFinite else { return Float(Double(low) + Double(fraction) * (Double(sorted[above]) - Double(low))) }
        return low + fraction * gap
    }
}
