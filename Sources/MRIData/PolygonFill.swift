/// Scanline fill of a closed polygon (even-odd rule), used to turn figshare tumour outlines into masks.
///
/// A pixel (row r, column c) is inside when its centre (c + 1/2, r + 1/2) is inside the polygon.
/// For each row, the crossings of the line y = r + 1/2 with the edges are sorted, and the pixels
/// whose centres lie between crossings 2k and 2k + 1 are set.
public enum PolygonFill {
    /// Fills `points` (x = column, y = row, in pixels of a `size` x `size` image) into a 0/1 mask.
    public static func mask(points: [(x: Double, y: Double)], size: Int) -> [Float] {
        var mask = [Float](repeating: 0, count: size * size)
        guard points.count >= 3 else { return mask }
        var crossings: [Double] = []
        for row in 0..<size {
            let y = Double(row) + 0.5
            crossings.removeAll(keepingCapacity: true)
            for k in 0..<points.count {
                let a = points[k]
                let b = points[(k + 1) % points.count]
                // Half-open rule so a vertex on the scanline is counted once.
                if (a.y <= y && b.y > y) || (b.y <= y && a.y > y) {
                    // Held within a pixel of the image, so that a far-out vertex (a corrupt outline, or one
                    // scaled beyond Double's range) cannot overflow the conversion to a column; NaN is dropped.
                    let x = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)
                    if !x.isNaN { crossings.append(Swift.min(Swift.max(x, -1), Double(size) + 1)) }
                }
            }
            crossings.sort()
            var k = 0
            while k + 1 < crossings.count {
                // Columns c with crossings[k] <= c + 1/2 < crossings[k + 1].
                let first = Swift.max(0, Int((crossings[k] - 0.5).rounded(.up)))
                let last = Swift.min(size - 1, Int((crossings[k + 1] - 0.5).rounded(.up)) - 1)
                if first <= last { for c in first...last { mask[row * size + c] = 1 } }
                k += 2
            }
        }
        return mask
    }

    /// Parses "x1 y1 x2 y2 ..." (space-separated) into points, or nil when it is not an even list of finite
    /// numbers ("nan" and "inf" parse as Doubles but are no coordinates).
    public static func points(fromBorder text: String) -> [(x: Double, y: Double)]? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let numbers = fields.compactMap { Double($0) }.filter(\.isFinite)
        guard numbers.count == fields.count, numbers.count % 2 == 0 else { return nil }
        return stride(from: 0, to: numbers.count, by: 2).map { (x: numbers[$0], y: numbers[$0 + 1]) }
    }
}
