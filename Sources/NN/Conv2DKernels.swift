import CKernels
import Tensor

/// The fast Conv2D kernels (legend in `Conv2D`): im2col + sgemm per image and per tile of output
/// rows, and a direct kernel for one input channel. `Conv2DReference.swift` holds the naive loops
/// they are tested against.
extension Conv2D {
    /// Floats in one thread's im2col tile: output rows per sgemm are chosen so the column matrix stays
    /// about this size (1 MiB), never a whole batch (at 256 px a full-batch im2col of layer 2 is 1.5 GB).
    static let columnBudget = 1 << 18

    static func tileRows(_ g: Geometry) -> Int {
        Swift.max(1, Swift.min(g.ho, columnBudget / Swift.max(1, g.ckk * g.wo)))
    }

    /// Reduction length below which one image's weight-gradient sgemm (K = Ho*Wo) runs far from sgemm's speed: OpenBLAS
    /// reached about a quarter of its rate at K = 64 and most of it from K = 256 on (M = 64, N = 576, one thread).
    static let groupedReduction = 256

    /// Images whose weight-gradient sums share one sgemm (`gemmBackward`): 1 unless an image's reduction Ho*Wo is below
    /// `groupedReduction`; then enough images to reach it, as many as a `columnBudget` column matrix holds. The groups
    /// are formed inside the fixed pieces of the batch, so the sums do not depend on the thread count.
    static func gradientGroup(_ g: Geometry) -> Int {
        let hw = g.ho * g.wo, perImage = g.ckk * hw
        guard hw < groupedReduction, perImage <= columnBudget else { return 1 }
        return Swift.max(1, Swift.min(columnBudget / perImage, (groupedReduction + hw - 1) / hw))
    }

    /// Calls `body(rows)` for consecutive tiles of `perTile` rows covering 0..<total.
    @inline(__always)
    static func forEachRowTile(_ total: Int, perTile: Int, _ body: (Range<Int>) -> Void) {
        var start = 0
        while start < total {
            let end = Swift.min(total, start + perTile)
            body(start..<end)
            start = end
        }
    }

    /// The input's column matrix for output `rows` of image x (see `Im2col.pack`).
    @inline(__always)
    static func packInput(_ g: Geometry, _ x: UnsafePointer<Float>, rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        Im2col.pack(image: x, channels: g.c, height: g.h, width: g.w, kernelSize: g.k, padding: g.p,
                    outputWidth: g.wo, outputRows: rows, columns: columns)
    }

    /// out[i] = bias + weight[O, CKK] x columns(in[i])[CKK, Ho*Wo], one row tile at a time.
    static func gemmForward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                            _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, threads: Int) {
        let rowsPerTile = tileRows(g)
        let hw = g.ho * g.wo
        BLAS.setThreads(1)
        Parallel.forEachChunk(count: g.n, chunks: threads) { _, images in
            let columns = UnsafeMutablePointer<Float>.allocateCacheLines(g.ckk * rowsPerTile * g.wo)
            defer { columns.deallocate() }
            for i in images {
                let x = inp + i * g.inPlane, y = out + i * g.outPlane
                for o in 0..<g.o { (y + o * hw).initialize(repeating: b[o], count: hw) }
                forEachRowTile(g.ho, perTile: rowsPerTile) { rows in
                    packInput(g, x, rows: rows, into: columns)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: g.o, n: rows.count * g.wo, k: g.ckk,
                               a: wt, lda: g.ckk, b: columns, ldb: rows.count * g.wo, beta: 1, c: y + rows.lowerBound * g.wo, ldc: hw)
                }
            }
        }
    }

    /// dweight[O, CKK] += dout[i][O, HoWo] x columns(in[i])^T, one output-row tile at a time, or for small planes
    /// (`gradientGroup`) over several images of a piece at once; piece p accumulates into its own slice of the
    /// weight/bias buffers.
    /// din[i] is the transposed convolution, computed as a convolution too (no col2im scatter, and an
    /// sgemm with K = O*K*K instead of K = O): din[i][C, H*W] = flipped[C, O*K*K] x columns(dout[i])
    /// with padding K - 1 - P, where flipped[c, o, ky, kx] = weight[o, c, K-1-ky, K-1-kx].
    /// With `doutOfImage`, dout[i] is not read from `dy` but formed in a per-piece buffer just before its sums.
    static func gemmBackward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                             _ dy: UnsafePointer<Float>?, _ work: BackwardBuffers, pieces: Int, threads: Int,
                             doutOfImage: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil) {
        precondition((dy == nil) != (doutOfImage == nil), "Conv2D.gemmBackward: dout comes from dy or from doutOfImage")
        let rowsPerTile = tileRows(g)
        let hw = g.ho * g.wo, kk = g.k * g.k, okk = g.o * kk
        let inputRowsPerTile = Swift.max(1, Swift.min(g.h, columnBudget / Swift.max(1, okk * g.w)))
        // Weight-gradient sums over a group of images in one sgemm (small planes).
        let group = work.dweight != nil ? gradientGroup(g) : 1
        let tile = Swift.max(g.ckk * Swift.max(rowsPerTile * g.wo, group * hw), work.din == nil ? 0 : okk * inputRowsPerTile * g.w)
        var flipped = [Float](repeating: 0, count: work.din == nil ? 0 : g.c * okk)
        if work.din != nil {
            for o in 0..<g.o { for c in 0..<g.c { for ky in 0..<g.k { for kx in 0..<g.k {
                flipped[c * okk + o * kk + (g.k - 1 - ky) * g.k + (g.k - 1 - kx)] = wt[((o * g.c + c) * g.k + ky) * g.k + kx]
            } } } }
        }
        BLAS.setThreads(1)
        flipped.withUnsafeBufferPointer { flippedBuffer in
            Parallel.forEachPiece(count: g.n, pieces: pieces, threads: threads) { piece, images in
                let columns = UnsafeMutablePointer<Float>.allocateCacheLines(tile)
                let formed = UnsafeMutablePointer<Float>.allocate(capacity: doutOfImage == nil ? 0 : group * g.outPlane)
                let gathered = UnsafeMutablePointer<Float>.allocate(capacity: group > 1 ? g.o * group * hw : 0)
                defer { columns.deallocate(); formed.deallocate(); gathered.deallocate() }
                let dw = work.dweight.map { $0 + piece * g.o * g.ckk }
                let db = work.dbias.map { $0 + piece * g.o }
                var first = images.lowerBound
                while first < images.upperBound {
                    let members = first..<Swift.min(images.upperBound, first + group)
                    first = members.upperBound
                    // dout of member j: read from dy, or formed into slot j of `formed`.
                    var douts: [UnsafePointer<Float>] = []
                    for (j, i) in members.enumerated() {
                        let x = inp + i * g.inPlane
                        let d: UnsafePointer<Float>
                        if let doutOfImage {
                            doutOfImage(i, formed + j * g.outPlane)
                            d = UnsafePointer(formed + j * g.outPlane)
                        } else if let dy {
                            d = dy + i * g.outPlane
                        } else {
                            preconditionFailure("Conv2D.gemmBackward: no dout")
                        }
                        douts.append(d)
                        if let db { for o in 0..<g.o { db[o] += vectorSum(d + o * hw, hw) } }
                        if let dw, group == 1 {
                            forEachRowTile(g.ho, perTile: rowsPerTile) { rows in
                                packInput(g, x, rows: rows, into: columns)
                                BLAS.sgemm(transposeA: false, transposeB: true, m: g.o, n: g.ckk, k: rows.count * g.wo,
                                           a: d + rows.lowerBound * g.wo, lda: hw, b: columns, ldb: rows.count * g.wo, beta: 1, c: dw, ldc: g.ckk)
                            }
                        }
                        if let dx = work.din, let flippedWeight = flippedBuffer.baseAddress {
                            forEachRowTile(g.h, perTile: inputRowsPerTile) { rows in
                                Im2col.pack(image: d, channels: g.o, height: g.ho, width: g.wo, kernelSize: g.k, padding: g.k - 1 - g.p,
                                            outputWidth: g.w, outputRows: rows, columns: columns)
                                BLAS.sgemm(transposeA: false, transposeB: false, m: g.c, n: rows.count * g.w, k: okk,
                                           a: flippedWeight, lda: okk, b: columns, ldb: rows.count * g.w, beta: 0,
                                           c: dx + i * g.inPlane + rows.lowerBound * g.w, ldc: g.h * g.w)
                            }
                        }
                    }
                    if let dw, group > 1 {
                        // dweight += [dout(i), i in group][O, G*HoWo] x [columns(in(i)), i in group]^T, one sgemm.
                        let width = members.count * hw
                        for (j, i) in members.enumerated() {
                            Im2col.pack(image: inp + i * g.inPlane, channels: g.c, height: g.h, width: g.w, kernelSize: g.k,
                                        padding: g.p, outputWidth: g.wo, outputRows: 0..<g.ho, columns: columns + j * hw,
                                        leadingDimension: width)
                            for o in 0..<g.o { (gathered + o * width + j * hw).update(from: douts[j] + o * hw, count: hw) }
                        }
                        BLAS.sgemm(transposeA: false, transposeB: true, m: g.o, n: g.ckk, k: width,
                                   a: gathered, lda: width, b: columns, ldb: width, beta: 1, c: dw, ldc: g.ckk)
                    }
                }
            }
        }
    }

    /// One input channel: out[i, o] = bias[o] + sum_{ky,kx} w[o, ky, kx] * shift(in[i], ky, kx), the C kernel of
    /// `isa` per image (`conv1_forward`): each image is copied once into a zero-bordered buffer, and 16 adjacent
    /// outputs of a row are accumulated in registers for several output channels at once. The terms are added
    /// in the naive loops' order, so the result is theirs to the bit.
    static func directForward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, threads: Int,
                              isa: KernelISA = .active) {
        let kernels = isa.kernels
        let scratch = ck_conv1_padded_floats(g.k, g.ho, g.wo)
        Parallel.forEachChunk(count: g.n, chunks: threads) { _, images in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { padded.deallocate() }
            for i in images {
                kernels.conv1_forward(inp + i * g.inPlane, g.h, g.w, g.k, g.p, g.ho, g.wo, wt, b, g.o, padded, out + i * g.outPlane)
            }
        }
    }

    /// One input channel: dweight and dbias by `directWeightGradient`, din[i] += sum_o w[o, ky, kx] *
    /// unshift(dout[i, o], ky, kx).
    static func directBackward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                               _ dy: UnsafePointer<Float>, _ work: BackwardBuffers, pieces: Int, threads: Int) {
        let hw = g.ho * g.wo, kk = g.k * g.k
        directWeightGradient(g, inp, dy, work, pieces: pieces, threads: threads)
        if let dxAll = work.din {
            Parallel.forEachChunk(count: g.n, chunks: threads) { _, images in
                for i in images {
                    let dx = dxAll + i * g.h * g.w
                    for o in 0..<g.o {
                        let d = dy + (i * g.o + o) * hw, w = wt + o * kk
                        for yy in 0..<g.ho {
                            let drow = d + yy * g.wo
                            for ky in 0..<g.k {
                                let iy = yy + ky - g.p
                                if iy < 0 || iy >= g.h { continue }
                                for kx in 0..<g.k {
                                    let wv = w[ky * g.k + kx]
                                    let xs = Swift.max(0, g.p - kx), xe = Swift.min(g.wo, g.w + g.p - kx)
                                    let dst = dx + iy * g.w + kx - g.p
                                    for xx in xs..<xe { dst[xx] += wv * drow[xx] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    /// One input channel: dweight[o, ky, kx] += <dout[i, o], shift(in[i], ky, kx)> and dbias[o] += sum dout[i, o], per
    /// image by the C kernel of `isa` (`conv1_weight_gradient`, which reads the image and dout directly: no im2col, and
    /// no sgemm with N = K*K, a shape far from its speed); piece p sums its images in order into its own slice of the
    /// buffers. dout[i] is read from `dy`, or formed by `doutOfImage` in a per-piece buffer just before its sums.
    static func directWeightGradient(_ g: Geometry, _ inp: UnsafePointer<Float>, _ dy: UnsafePointer<Float>?,
                                     _ work: BackwardBuffers, pieces: Int, threads: Int,
                                     doutOfImage: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil,
                                     isa: KernelISA = .active) {
        precondition(g.c == 1, "Conv2D.directWeightGradient: one input channel, got \(g.c)")
        precondition((dy == nil) != (doutOfImage == nil), "Conv2D.directWeightGradient: dout comes from dy or from doutOfImage")
        guard let dwAll = work.dweight, let dbAll = work.dbias else { return }
        let kernels = isa.kernels, hw = g.ho * g.wo, kk = g.k * g.k
        let scratch = ck_conv1_padded_floats(g.k, g.ho, g.wo)
        Parallel.forEachPiece(count: g.n, pieces: pieces, threads: threads) { piece, images in
            let padded = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            let formed = UnsafeMutablePointer<Float>.allocate(capacity: doutOfImage == nil ? 0 : g.outPlane)
            defer { padded.deallocate(); formed.deallocate() }
            let dw = dwAll + piece * g.o * kk, db = dbAll + piece * g.o
            for i in images {
                let d: UnsafePointer<Float>
                if let doutOfImage {
                    doutOfImage(i, formed)
                    d = UnsafePointer(formed)
                } else if let dy {
                    d = dy + i * g.outPlane
                } else {
                    preconditionFailure("Conv2D.directWeightGradient: no dout")
                }
                for o in 0..<g.o { db[o] += vectorSum(d + o * hw, hw, isa: isa) }
                kernels.conv1_weight_gradient(inp + i * g.inPlane, g.h, g.w, g.k, g.p, g.ho, g.wo, d, g.o, padded, dw)
            }
        }
    }
}
