import Foundation
import Tensor

/// Image-quality measures of a denoised image against the clean one, on the [0, 1] scale (data range L = 1).
///
/// PSNR = 10 log10(L^2 / MSE)  (+infinity for identical images).
/// SSIM (Wang, Bovik, Sheikh and Simoncelli 2004): with Gaussian-weighted local means, variances and
/// covariance (11 x 11 window, sigma 1.5, weights summing to 1, population moments),
///     SSIM(x, y) = ((2 mu_x mu_y + C1)(2 sigma_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),
/// C1 = (K1 L)^2, C2 = (K2 L)^2, K1 = 0.01, K2 = 0.03, averaged over the positions where the window fits
/// inside the image ("valid"; the same number as scikit-image's `structural_similarity(gaussian_weights=True,
/// sigma=1.5, use_sample_covariance=False, data_range=1)`, which filters with padding and then crops 5 px).
public enum DenoisingMetrics {
    public static let windowRadius = 5
    public static let windowSigma = 1.5
    public static let k1 = 0.01
    public static let k2 = 0.03

    /// PSNR of one image against its reference (any equal shapes), in dB.
    public static func psnr(_ image: [Float], reference: [Float]) -> Double {
        precondition(image.count == reference.count && !image.isEmpty, "psnr: \(image.count) vs \(reference.count) pixels")
        var total = 0.0
        for (a, b) in zip(image, reference) { total += Double(a - b) * Double(a - b) }
        let mse = total / Double(image.count)
        return mse == 0 ? .infinity : -10 * log10(mse)
    }

    /// The normalised 1-D Gaussian of the SSIM window: 2 * windowRadius + 1 taps.
    public static var windowWeights: [Double] {
        let raw = (-windowRadius...windowRadius).map { exp(-Double($0 * $0) / (2 * windowSigma * windowSigma)) }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }

    /// Mean SSIM of one H x W image against its reference (H, W >= 11).
    public static func ssim(_ image: [Float], reference: [Float], height: Int, width: Int) -> Double {
        let size = 2 * windowRadius + 1
        precondition(image.count == height * width && reference.count == height * width && height >= size && width >= size,
                     "ssim: images of \(image.count) and \(reference.count) pixels for \(height)x\(width) (needs >= \(size)x\(size))")
        let x = image.map(Double.init), y = reference.map(Double.init)
        let mx = validFilter(x, height, width), my = validFilter(y, height, width)
        let xx = validFilter(zip(x, x).map(*), height, width)
        let yy = validFilter(zip(y, y).map(*), height, width)
        let xy = validFilter(zip(x, y).map(*), height, width)
        let c1 = k1 * k1, c2 = k2 * k2
        var total = 0.0
        for j in mx.indices {
            let vx = xx[j] - mx[j] * mx[j], vy = yy[j] - my[j] * my[j], cxy = xy[j] - mx[j] * my[j]
            total += ((2 * mx[j] * my[j] + c1) * (2 * cxy + c2)) / ((mx[j] * mx[j] + my[j] * my[j] + c1) * (vx + vy + c2))
        }
        return total / Double(mx.count)
    }

    /// Separable Gaussian filter, valid part only: [(H - 10) * (W - 10)].
    static func validFilter(_ v: [Double], _ h: Int, _ w: Int) -> [Double] {
        let g = windowWeights, k = g.count
        let wo = w - k + 1, ho = h - k + 1
        var rows = [Double](repeating: 0, count: h * wo)
        for r in 0..<h {
            for c in 0..<wo {
                var s = 0.0
                for t in 0..<k { s += g[t] * v[r * w + c + t] }
                rows[r * wo + c] = s
            }
        }
        var out = [Double](repeating: 0, count: ho * wo)
        for r in 0..<ho {
            for c in 0..<wo {
                var s = 0.0
                for t in 0..<k { s += g[t] * rows[(r + t) * wo + c] }
                out[r * wo + c] = s
            }
        }
        return out
    }

    /// Mean over images of per-image PSNR and SSIM. images, references: [N, 1, H, W].
    public static func mean(_ images: Tensor, references: Tensor) -> (psnr: Double, ssim: Double) {
        precondition(images.shape == references.shape && images.rank == 4 && images.shape[1] == 1,
                     "DenoisingMetrics.mean: shapes \(images.shape) and \(references.shape)")
        let n = images.shape[0], h = images.shape[2], w = images.shape[3], plane = h * w
        var psnrTotal = 0.0, ssimTotal = 0.0
        for i in 0..<n {
            let a = Array(images.scalars[(i * plane)..<((i + 1) * plane)])
            let b = Array(references.scalars[(i * plane)..<((i + 1) * plane)])
            psnrTotal += psnr(a, reference: b)
            ssimTotal += ssim(a, reference: b, height: h, width: w)
        }
        return (psnrTotal / Double(max(n, 1)), ssimTotal / Double(max(n, 1)))
    }
}
