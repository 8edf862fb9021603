import Foundation
import Tensor

/// The classical denoisers the Noise2Void results are compared with. Borders are reflected
/// (scipy's mode "reflect": d c b a | a b c d | d c b a).
public enum DenoisingFilters {
    /// Reflected index of i in 0..<n (i may be up to n outside the range).
    @inline(__always)
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if i < 0 { return Swift.min(-i - 1, n - 1) }
        if i >= n { return Swift.max(2 * n - i - 1, 0) }
        return i
    }

    /// Gaussian blur, separable, radius = ceil(3 sigma), weights normalised to 1. images: [N, C, H, W].
    public static func gaussian(_ images: Tensor, sigma: Double) -> Tensor {
        precondition(images.rank == 4 && sigma > 0, "DenoisingFilters.gaussian: images \(images.shape), sigma \(sigma)")
        let radius = Int((3 * sigma).rounded(.up))
        let raw = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = raw.reduce(0, +)
        let g = raw.map { $0 / total }
        let planes = images.shape[0] * images.shape[1], h = images.shape[2], w = images.shape[3]
        var out = images
        out.withUnsafeMutableBufferPointer { y in
            images.withUnsafeBufferPointer { x in
                var rows = [Float](repeating: 0, count: h * w)
                for p in 0..<planes {
                    let base = p * h * w
                    for r in 0..<h {
                        for c in 0..<w {
                            var s: Float = 0
                            for t in -radius...radius { s += g[t + radius] * x[base + r * w + reflect(c + t, w)] }
                            rows[r * w + c] = s
                        }
                    }
                    for r in 0..<h {
                        for c in 0..<w {
                            var s: Float = 0
                            for t in -radius...radius { s += g[t + radius] * rows[reflect(r + t, h) * w + c] }
                            y[base + r * w + c] = s
                        }
                    }
                }
            }
        }
        return out
    }

    /// 3 x 3 median filter. images: [N, C, H, W].
    public static func median3x3(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4, "DenoisingFilters.median3x3: images \(images.shape)")
        let planes = images.shape[0] * images.shape[1], h = images.shape[2], w = images.shape[3]
        var out = images
        out.withUnsafeMutableBufferPointer { y in
            images.withUnsafeBufferPointer { x in
                var window = [Float](repeating: 0, count: 9)
                for p in 0..<planes {
                    let base = p * h * w
                    for r in 0..<h {
                        for c in 0..<w {
                            var k = 0
                            for dy in -1...1 {
                                for dx in -1...1 {
                                    window[k] = x[base + reflect(r + dy, h) * w + reflect(c + dx, w)]
                                    k += 1
                                }
                            }
                            window.sort()
                            y[base + r * w + c] = window[4]
                        }
                    }
                }
            }
        }
        return out
    }
}
