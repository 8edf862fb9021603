/// Lowering of a stride-1 square convolution to a matrix product (im2col) and its adjoint (col2im).
///
/// For one image x: [C, H, W], kernel K and zero padding P, output width Wo and a range of output
/// rows, the column matrix is [C*K*K, rows * Wo]: row (c*K + ky)*K + kx, column (y - rows.lowerBound)*Wo + x
/// holds x[c, y + ky - P, x + kx - P], or 0 outside the image. A convolution is then
/// out[Cout, rows*Wo] = weight[Cout, C*K*K] x columns. Working on a range of rows keeps the matrix
/// small (cache-sized) instead of materialising it for a whole image or batch.
public enum Im2col {
    /// Writes the column matrix of `image` for `outputRows` into `columns`.
    public static func pack(
        image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernelSize k: Int, padding p: Int, outputWidth: Int, outputRows: Range<Int>,
        columns: UnsafeMutablePointer<Float>
    ) {
        let n = outputRows.count * outputWidth
        for c in 0..<channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    let dst = columns + ((c * k + ky) * k + kx) * n
                    let xs = Swift.max(0, p - kx)
                    let xe = Swift.min(outputWidth, width + p - kx)
                    for (r, y) in outputRows.enumerated() {
                        let row = dst + r * outputWidth
                        let iy = y + ky - p
                        if iy < 0 || iy >= height || xs >= xe {
                            row.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        if xs > 0 { row.update(repeating: 0, count: xs) }
                        (row + xs).update(from: image + (c * height + iy) * width + xs + kx - p, count: xe - xs)
                        if xe < outputWidth { (row + xe).update(repeating: 0, count: outputWidth - xe) }
                    }
                }
            }
        }
    }

    /// The adjoint of `pack`: adds every entry of `columns` back onto the image pixel it was read from
    /// (entries that came from the zero padding are dropped). `image` must be initialised.
    public static func unpackAdding(
        columns: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernelSize k: Int, padding p: Int, outputWidth: Int, outputRows: Range<Int>,
        image: UnsafeMutablePointer<Float>
    ) {
        let n = outputRows.count * outputWidth
        for c in 0..<channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    let src = columns + ((c * k + ky) * k + kx) * n
                    let xs = Swift.max(0, p - kx)
                    let xe = Swift.min(outputWidth, width + p - kx)
                    if xs >= xe { continue }
                    for (r, y) in outputRows.enumerated() {
                        let iy = y + ky - p
                        if iy < 0 || iy >= height { continue }
                        let row = src + r * outputWidth
                        let dst = image + (c * height + iy) * width + kx - p
                        for x in xs..<xe { dst[x] += row[x] }
                    }
                }
            }
        }
    }
}
