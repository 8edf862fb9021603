/// Lowering of a stride-1 square convolution to a matrix product (im2col).
///
/// For one image x: [C, H, W], kernel K and zero padding P, output width Wo and a range of output
/// rows, the column matrix is [C*K*K, rows * Wo]: row (c*K + ky)*K + kx, column (y - rows.lowerBound)*Wo + x
/// holds x[c, y + ky - P, x + kx - P], or 0 outside the image. A convolution is then
/// out[Cout, rows*Wo] = weight[Cout, C*K*K] x columns. Working on a range of rows keeps the matrix
/// small (cache-sized) instead of materialising it for a whole image or batch. The input gradient of a
/// convolution is itself a convolution (of dout with the flipped kernel, padding K - 1 - P), so no
/// col2im is needed.
public enum Im2col {
    /// Writes the column matrix of `image` for `outputRows` into `columns` (the C kernel of `isa`), its rows
    /// `leadingDimension` floats apart (nil: rows * Wo, a dense matrix; larger: this image's block of a wider matrix,
    /// e.g. [C*K*K, images * Ho*Wo] with this image's columns from `columns` on).
    public static func pack(
        image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernelSize k: Int, padding p: Int, outputWidth: Int, outputRows: Range<Int>,
        columns: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil, isa: KernelISA = .active
    ) {
        let dense = outputRows.count * outputWidth
        let ld = leadingDimension ?? dense
        precondition(ld >= dense, "Im2col.pack: leading dimension \(ld) below rows x width \(dense)")
        isa.kernels.im2col_pack(image, channels, height, width, k, p, outputWidth,
                                outputRows.lowerBound, outputRows.upperBound, columns, ld)
    }

    /// The definition, one entry at a time: the reference `pack` is tested against.
    public static func naivePack(
        image: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
        kernelSize k: Int, padding p: Int, outputWidth: Int, outputRows: Range<Int>,
        columns: UnsafeMutablePointer<Float>, leadingDimension: Int? = nil
    ) {
        let n = leadingDimension ?? outputRows.count * outputWidth
        for c in 0..<channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    for (r, y) in outputRows.enumerated() {
                        for x in 0..<outputWidth {
                            let iy = y + ky - p, ix = x + kx - p
                            let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                            columns[((c * k + ky) * k + kx) * n + r * outputWidth + x] = inside ? image[(c * height + iy) * width + ix] : 0
                        }
                    }
                }
            }
        }
    }
}
