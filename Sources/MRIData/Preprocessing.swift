/// The authors' preprocessing, applied to one decoded greyscale image:
///
///   1. x <- x / max(x) (per image, to [0, 1]; negative values clip to 0; an all-zero image stays zero),
///      or another `IntensityMapping` (min-max for DICOM and NIfTI, percentile clipping on request);
///   2. pad a non-square image with zeros to a centred square (keeps the aspect ratio);
///   3. resize to S x S: area averaging when shrinking, bilinear (half-pixel centres) when enlarging;
///   4. quantise to multiples of 1/255, as the authors' uint8 pipeline (`x / max(x) * 255`, uint8) did.
///
/// Pixels are row-major, `height` rows of `width` values.
public enum Preprocessing {
    /// Steps 1-4: raw pixels (any scale) -> S*S values in [0, 1], multiples of 1/255. `intensity` must be
    /// resolved (see `IntensityMapping.resolved(for:)`); the default is the authors' x / max(x).
    public static func preprocessed(pixels: [Float], width: Int, height: Int, size: Int,
                                    intensity: IntensityMapping = .unitMaximum) -> [Float] {
        var values = intensity.applied(to: pixels)
        values = paddedToSquare(values, width: width, height: height)
        values = resized(values, from: Swift.max(width, height), to: size)
        for i in values.indices { values[i] = (values[i] * 255).rounded() / 255 }
        return values
    }

    /// A decoded image through steps 1-4, with `intensity` resolved for the image's format.
    public static func preprocessed(_ image: GrayImage, size: Int, intensity: IntensityMapping) -> [Float] {
        preprocessed(pixels: image.pixels, width: image.width, height: image.height, size: size,
                     intensity: intensity.resolved(for: image.format))
    }

    /// A 0/1 mask resized to S x S the same way (padded, area-averaged or bilinear), then thresholded at 1/2.
    public static func preprocessedMask(_ mask: [Float], width: Int, height: Int, size: Int) -> [Float] {
        let square = paddedToSquare(mask, width: width, height: height)
        return resized(square, from: Swift.max(width, height), to: size).map { $0 >= 0.5 ? 1 : 0 }
    }

    /// x / max(x), negatives clipped to 0; all zeros when max(x) <= 0.
    public static func normalizedToUnitMaximum(_ pixels: [Float]) -> [Float] {
        IntensityMapping.unitMaximum.applied(to: pixels)
    }

    /// Centres a width x height image on a zero square of side max(width, height).
    public static func paddedToSquare(_ pixels: [Float], width: Int, height: Int) -> [Float] {
        precondition(pixels.count == width * height, "paddedToSquare: \(pixels.count) pixels for \(width)x\(height)")
        if width == height { return pixels }
        let side = Swift.max(width, height)
        let left = (side - width) / 2
        let top = (side - height) / 2
        var out = [Float](repeating: 0, count: side * side)
        for row in 0..<height {
            for col in 0..<width { out[(row + top) * side + col + left] = pixels[row * width + col] }
        }
        return out
    }

    /// Resizes a square image of side `from` to side `to`, separably (rows, then columns).
    public static func resized(_ pixels: [Float], from: Int, to: Int) -> [Float] {
        precondition(pixels.count == from * from, "resized: \(pixels.count) pixels for side \(from)")
        if from == to { return pixels }
        // Taps flattened: output o uses index[start[o] ..< start[o + 1]] with weight[...].
        let taps = resamplingTaps(from: from, to: to)
        var start = [0]
        for t in taps { start.append(start[start.count - 1] + t.count) }
        let index = taps.flatMap { $0.map(\.index) }, weight = taps.flatMap { $0.map(\.weight) }
        var horizontal = [Float](repeating: 0, count: from * to)  // [from rows, to cols]
        var out = [Float](repeating: 0, count: to * to)
        pixels.withUnsafeBufferPointer { x in
            start.withUnsafeBufferPointer { s in
                index.withUnsafeBufferPointer { ix in
                    weight.withUnsafeBufferPointer { w in
                        horizontal.withUnsafeMutableBufferPointer { h in
                            for row in 0..<from {
                                for col in 0..<to {
                                    var sum: Float = 0
                                    for k in s[col]..<s[col + 1] { sum += w[k] * x[row * from + ix[k]] }
                                    h[row * to + col] = sum
                                }
                            }
                        }
                        out.withUnsafeMutableBufferPointer { y in
                            horizontal.withUnsafeBufferPointer { h in
                                for row in 0..<to {
                                    for k in s[row]..<s[row + 1] {
                                        let source = ix[k] * to, wk = w[k]
                                        for col in 0..<to { y[row * to + col] += wk * h[source + col] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One input sample and its weight in an output sample.
    public struct Tap: Equatable, Sendable {
        public var index: Int
        public var weight: Float
    }

    /// For each of `to` output samples, the input samples of a length-`from` axis and their weights
    /// (weights sum to 1).
    ///
    /// Shrinking (to < from), area averaging: output o covers [o r, (o + 1) r) with r = from / to, and
    /// input i weighs |[i, i + 1) intersect [o r, (o + 1) r)| / r.
    /// Enlarging, bilinear with half-pixel centres: s = (o + 1/2) from / to - 1/2, clamped to [0, from - 1].
    public static func resamplingTaps(from: Int, to: Int) -> [[Tap]] {
        precondition(from > 0 && to > 0, "resamplingTaps: sizes must be positive, got \(from) -> \(to)")
        let ratio = Double(from) / Double(to)
        return (0..<to).map { o in
            if to < from {
                let start = Double(o) * ratio
                let end = Double(o + 1) * ratio
                var taps: [Tap] = []
                var i = Int(start.rounded(.down))
                while Double(i) < end && i < from {
                    let overlap = Swift.min(end, Double(i + 1)) - Swift.max(start, Double(i))
                    if overlap > 1e-12 { taps.append(Tap(index: i, weight: Float(overlap / ratio))) }
                    i += 1
                }
                return taps
            }
            let source = Swift.min(Swift.max((Double(o) + 0.5) * ratio - 0.5, 0), Double(from - 1))
            let i0 = Int(source.rounded(.down))
            let i1 = Swift.min(i0 + 1, from - 1)
            let fraction = Float(source - Double(i0))
            return i1 == i0 ? [Tap(index: i0, weight: 1)]
                : [Tap(index: i0, weight: 1 - fraction), Tap(index: i1, weight: fraction)]
        }
    }
}
