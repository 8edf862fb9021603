import CKernels
import Tensor

/// Winograd convolution (legend in `Conv2D`; Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks"):
/// the output is cut into m x m tiles; tile (ty, tx) of image i reads the alpha x alpha input patch D at
/// (ty*m - P, tx*m - P) (0 outside the image) and is, exactly in real arithmetic,
///
///     Y[o] = A^T [ sum_c U[o, c] ⊙ V[c] ] A,   U[o, c] = G W[o, c] G^T,   V[c] = B^T D[c] B
///
/// (`WinogradTransform`). For each of the alpha^2 positions xi of the transformed tile, the sum over c is one sgemm
/// M[xi] = U[xi] [O, C] x V[xi] [C, tiles], over a block of tiles. The passes backward are the adjoint of this linear
/// map, so they are the exact gradients, again alpha^2 sgemms per block:
///
///     dM[o] = A dY[o] A^T,   dU[xi] += dM[xi] V[xi]^T (summed over tiles and images),   dW = G^T dU G,
///     dV[xi] = U[xi]^T dM[xi],   dX += B dV[c] B^T (overlapping patches add; what falls in the padding is dropped).
///
/// The tile transforms are the C kernels `winograd_tiles_in` / `winograd_tiles_out`. A block is a run of tile rows
/// (possibly over several images of one piece, so small late layers still give the sgemms wide matrices); blocks are
/// formed inside the fixed pieces of the batch (`Parallel.forEachPiece`) in every pass, so every sum, and its order,
/// is the same at any thread count, and the weight gradient is summed per piece and reduced in piece order.
extension Conv2D {
    /// Floats of one block's transformed input and product (alpha^2 (C + O) per tile): about 1 MiB (measured faster than
    /// 2 and 8 MiB on the authors' layers 2-4).
    static let winogradBlockBudget = 1 << 18

    /// The tiles of one call: `tilesHigh` x `tilesWide` per image; `rowsPerBlock` tile rows per sgemm block.
    struct WinogradPlan {
        let t: WinogradTransform
        let tilesHigh, tilesWide, rowsPerBlock, scratch: Int
        var alpha: Int { t.inputTile }
        var m: Int { t.outputTile }
        var positions: Int { alpha * alpha }
        /// The widest block, in tiles.
        var blockTiles: Int { rowsPerBlock * tilesWide }
    }

    /// The smallest output plane (Ho*Wo) at which `.automatic` runs a layer with several input channels by Winograd,
    /// per kernel size. Measured with `WinogradTimingTests` (batch 32, 2 threads, forward and backward, F(4, 5) and
    /// F(4, 3), on a shared machine): 5x5 won at 122, 57 and 24 px (authors' layers 2-4: backward 2.1x, 2.2x, 1.2x)
    /// and lost at 8 px; 3x3 won at 64 px (1.3-1.5x) and lost at 32 px and below, where im2col's sgemms are wide
    /// enough and the transforms of short tile rows cost more than the multiplications they save (4x for F(4, 3),
    /// 6.25x for F(4, 5)). With the paired transforms and whole 16-tile groups (session 10), 3x3 wins at 32 px too:
    /// the 3x3 CNN at 128 px, `bench`, 1 thread, both builds at once on the two cores, training 171.6 -> 195.0 and
    /// inference 748 -> 808 images/s with its 32 px layer by Winograd; with its 16 px layer as well, 171.3 and 733
    /// (lost).
    static func winogradMinimumPlane(kernelSize: Int) -> Int {
        kernelSize >= 5 ? 16 * 16 : 32 * 32
    }

    /// Whether `.automatic` runs this shape by Winograd: a kernel with tiles, more than one input channel (one
    /// channel has its direct kernel), and an output plane of at least `winogradMinimumPlane`.
    static func prefersWinograd(_ g: Geometry) -> Bool {
        g.c > 1 && winogradTransform(kernelSize: g.k) != nil && g.ho * g.wo >= winogradMinimumPlane(kernelSize: g.k)
    }

    static func winogradPlan(_ g: Geometry, _ t: WinogradTransform) -> WinogradPlan {
        precondition(t.kernelSize == g.k, "Conv2D.winograd: F(\(t.outputTile), \(t.kernelSize)) for a \(g.k)x\(g.k) kernel")
        let m = t.outputTile, alpha = t.inputTile
        precondition(alpha <= Int(CK_WINOGRAD_MAX), "Conv2D.winograd: input tile \(alpha) above the transforms' \(CK_WINOGRAD_MAX)")
        let tilesHigh = (g.ho + m - 1) / m, tilesWide = (g.wo + m - 1) / m
        let perRow = alpha * alpha * (g.c + g.o) * tilesWide
        let rows = Swift.max(1, Swift.min(tilesHigh * g.n, winogradBlockBudget / perRow))
        return WinogradPlan(t: t, tilesHigh: tilesHigh, tilesWide: tilesWide, rowsPerBlock: rows,
                            scratch: ck_winograd_scratch_floats(tilesWide, m, alpha, alpha))
    }

    /// Calls `body(rows)` for consecutive blocks of the tile rows of `images` (tile row q is row q % tilesHigh of
    /// image q / tilesHigh).
    static func forEachWinogradBlock(_ plan: WinogradPlan, images: Range<Int>, _ body: (Range<Int>) -> Void) {
        forEachRowTile(images.count * plan.tilesHigh, perTile: plan.rowsPerBlock) { rows in
            let first = images.lowerBound * plan.tilesHigh
            body((first + rows.lowerBound)..<(first + rows.upperBound))
        }
    }

    /// Floats between consecutive positions xi of a block's [alpha^2, rows, width] matrices: rows * width and 16 more,
    /// so that the tile transforms move whole 16-lane groups. `winograd_tiles_in` writes each row's last group whole:
    /// its lanes past the row's tiles land in the next tile row's columns (written after it, see
    /// `winogradInputTransform`) or, past the last row of a position, in these 16 floats; `winograd_tiles_out` reads
    /// them and drops them. (Partial groups had taken two fifths of `winograd_tiles_in`, in stalled small stores.)
    static func positionStride(rows: Int, width: Int) -> Int { rows * width + 16 }

    /// One worker's buffers for a block: the transformed input V (or dV) [alpha^2, C, tiles], the product M (or dM)
    /// [alpha^2, O, tiles] (positions `positionStride` apart), and the tile transforms' scratch.
    /// All three on cache lines (`allocateCacheLines`), so the transforms' whole 16-float groups are whole lines
    /// wherever a position's stride is a multiple of 16 floats.
    struct WinogradBuffers {
        let v, product, scratch: UnsafeMutablePointer<Float>

        init(_ g: Geometry, _ plan: WinogradPlan) {
            v = .allocateCacheLines(plan.positions * positionStride(rows: g.c, width: plan.blockTiles))
            product = .allocateCacheLines(plan.positions * positionStride(rows: g.o, width: plan.blockTiles))
            scratch = .allocateCacheLines(plan.scratch)
        }

        func deallocate() {
            v.deallocate()
            product.deallocate()
            scratch.deallocate()
        }
    }

    /// Calls `body(image, tileRow, column)` for the tile rows of a block: image i's tile row ty, whose tiles are the
    /// block's columns from `column` on.
    @inline(__always)
    static func forEachTileRow(_ plan: WinogradPlan, _ rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        for q in rows {
            let (i, ty) = q.quotientAndRemainder(dividingBy: plan.tilesHigh)
            body(i, ty, (q - rows.lowerBound) * plan.tilesWide)
        }
    }

    /// Calls `body(image, tileRow, column, count)` for the runs of a block's tile rows that lie in one image: image i's
    /// tile rows tileRow..<tileRow + count, whose tiles are the block's columns from `column` on. The input transform
    /// and the fused pooled output take such a run at once and pack rows of 4 or 8 tiles into whole 16-lane groups.
    @inline(__always)
    static func forEachImageRun(_ plan: WinogradPlan, _ rows: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
        var q = rows.lowerBound
        while q < rows.upperBound {
            let (i, ty) = q.quotientAndRemainder(dividingBy: plan.tilesHigh)
            let count = Swift.min(rows.upperBound - q, plan.tilesHigh - ty)
            body(i, ty, (q - rows.lowerBound) * plan.tilesWide, count)
            q += count
        }
    }

    /// One sgemm per transformed position xi < alpha^2: c[xi] = op(a[xi]) op(b[xi]) (+ c[xi] where beta = 1), the
    /// matrices of consecutive positions `aStride`, `bStride`, `cStride` floats apart.
    @inline(__always)
    static func positionGemms(_ plan: WinogradPlan, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                              a: UnsafePointer<Float>, lda: Int, aStride: Int, b: UnsafePointer<Float>, ldb: Int, bStride: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, cStride: Int) {
        for xi in 0..<plan.positions {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a + xi * aStride, lda: lda,
                       b: b + xi * bStride, ldb: ldb, beta: beta, c: c + xi * cStride, ldc: ldc)
        }
    }

    /// U[xi, o, c] = (G W[o, c] G^T)[xi]: [alpha^2, O, C]. Through raw pointers: with array subscripts this took a
    /// third of the evaluation pass (7,168 (o, c) pairs of the authors' CNN per batch).
    static func winogradWeights(_ g: Geometry, _ wt: UnsafePointer<Float>, _ t: WinogradTransform) -> [Float] {
        let alpha = t.inputTile, r = g.k, positions = alpha * alpha, oc = g.o * g.c
        var u = [Float](repeating: 0, count: positions * oc)
        var gw = [Float](repeating: 0, count: alpha * r)
        t.g.withUnsafeBufferPointer { gBuffer in
            u.withUnsafeMutableBufferPointer { uBuffer in
                gw.withUnsafeMutableBufferPointer { gwBuffer in
                    guard let gm = gBuffer.baseAddress, let u = uBuffer.baseAddress, let gw = gwBuffer.baseAddress else { return }
                    for pair in 0..<oc {
                        let w = wt + pair * r * r
                        for i in 0..<alpha { for k in 0..<r {
                            var s: Float = 0
                            for j in 0..<r { s += gm[i * r + j] * w[j * r + k] }
                            gw[i * r + k] = s
                        } }
                        for i in 0..<alpha { for j in 0..<alpha {
                            var s: Float = 0
                            for k in 0..<r { s += gw[i * r + k] * gm[j * r + k] }
                            u[(i * alpha + j) * oc + pair] = s
                        } }
                    }
                }
            }
        }
        return u
    }

    /// dweight[o, c] += G^T dU[o, c] G, for dU: [alpha^2, O, C] (raw pointers, as `winogradWeights`).
    static func addWinogradWeightGradient(_ g: Geometry, _ du: UnsafePointer<Float>, _ t: WinogradTransform,
                                          into dw: UnsafeMutablePointer<Float>) {
        let alpha = t.inputTile, r = g.k, oc = g.o * g.c
        var gtdu = [Float](repeating: 0, count: r * alpha)
        t.gt.withUnsafeBufferPointer { gtBuffer in
            gtdu.withUnsafeMutableBufferPointer { gtduBuffer in
                guard let gt = gtBuffer.baseAddress, let gtdu = gtduBuffer.baseAddress else { return }
                for pair in 0..<oc {
                    for i in 0..<r { for j in 0..<alpha {
                        var s: Float = 0
                        for k in 0..<alpha { s += gt[i * alpha + k] * du[(k * alpha + j) * oc + pair] }
                        gtdu[i * alpha + j] = s
                    } }
                    let w = dw + pair * r * r
                    for i in 0..<r { for j in 0..<r {
                        var s: Float = 0
                        for k in 0..<alpha { s += gtdu[i * alpha + k] * gt[j * alpha + k] }
                        w[i * r + j] += s
                    } }
                }
            }
        }
    }

    /// V[xi, c, column + t] = (B^T D B)[xi] for the tiles of tile rows `rows` (block-relative columns from 0; the
    /// block is `width` tiles wide). Channel by channel, each channel's tile rows in column order, so the whole last
    /// group a row writes past its tiles is overwritten by the next row, the next channel, or falls in the padding.
    static func winogradInputTransform(_ g: Geometry, _ plan: WinogradPlan, _ inp: UnsafePointer<Float>, rows: Range<Int>,
                                       _ v: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, isa: KernelISA) {
        let width = rows.count * plan.tilesWide, kernels = isa.kernels, m = plan.m
        plan.t.bt.withUnsafeBufferPointer { btBuffer in
            guard let bt = btBuffer.baseAddress else { return }
            let stride = positionStride(rows: g.c, width: width)
            for c in 0..<g.c {
                forEachImageRun(plan, rows) { i, ty, column, count in
                    kernels.winograd_tiles_in(inp + (i * g.c + c) * g.h * g.w, g.h, g.w, ty * m - g.p, -g.p, m, plan.tilesWide,
                                              count, bt, plan.alpha, plan.alpha, v + c * width + column, stride, scratch,
                                              plan.t.pairing.bt)
                }
            }
        }
    }

    /// One block's product M = U V ([alpha^2, O, width], positions `stride` apart) for the tile rows `rows`, with the
    /// worker's scratch for the tile transforms and A^T (`at`) for the output transform.
    struct WinogradBlockProduct {
        let product: UnsafeMutablePointer<Float>
        let stride, width: Int
        let rows: Range<Int>
        let scratch: UnsafeMutablePointer<Float>
        let at: UnsafePointer<Float>
    }

    /// The forward pass's products: U of the weight (`prepared`, or `winogradWeights`), then per piece of images and
    /// block of tile rows the input transform and the alpha^2 sgemms M[xi] = U[xi] V[xi], each block's M handed to
    /// `emit` (which applies the output transform).
    @inline(__always)
    static func winogradProducts(_ g: Geometry, _ plan: WinogradPlan, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                                 prepared: [Float]?, threads: Int, isa: KernelISA, _ emit: (WinogradBlockProduct) -> Void) {
        let u = prepared ?? winogradWeights(g, wt, plan.t)
        let pieces = Swift.max(1, Swift.min(Parallel.reductionPieces, g.n))
        BLAS.setThreads(1)
        u.withUnsafeBufferPointer { uBuffer in
            plan.t.at.withUnsafeBufferPointer { atBuffer in
                guard let u = uBuffer.baseAddress, let at = atBuffer.baseAddress else { return }
                Parallel.forEachPiece(count: g.n, pieces: pieces, threads: threads) { _, images in
                    let buffers = WinogradBuffers(g, plan)
                    defer { buffers.deallocate() }
                    forEachWinogradBlock(plan, images: images) { rows in
                        let width = rows.count * plan.tilesWide
                        let (vStride, productStride) = (positionStride(rows: g.c, width: width), positionStride(rows: g.o, width: width))
                        winogradInputTransform(g, plan, inp, rows: rows, buffers.v, scratch: buffers.scratch, isa: isa)
                        positionGemms(plan, m: g.o, n: width, k: g.c, a: u, lda: g.c, aStride: g.o * g.c, b: buffers.v, ldb: width,
                                      bStride: vStride, beta: 0, c: buffers.product, ldc: width, cStride: productStride)
                        emit(WinogradBlockProduct(product: buffers.product, stride: productStride, width: width, rows: rows,
                                                  scratch: buffers.scratch, at: at))
                    }
                }
            }
        }
    }

    /// out = bias + A^T M A, by the Winograd identity (see the extension's comment), per piece of images and block;
    /// `prepared`: U of this weight (`winogradWeights`), if already made.
    static func winogradForward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                                _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, threads: Int,
                                transform t: WinogradTransform, prepared: [Float]? = nil, isa: KernelISA = .active) {
        let plan = winogradPlan(g, t), kernels = isa.kernels, m = plan.m
        winogradProducts(g, plan, inp, wt, prepared: prepared, threads: threads, isa: isa) { block in
            forEachTileRow(plan, block.rows) { i, ty, column in
                for o in 0..<g.o {
                    kernels.winograd_tiles_out(block.product + o * block.width + column, block.stride, plan.tilesWide, block.at, m,
                                               plan.alpha, out + (i * g.o + o) * g.ho * g.wo, g.ho, g.wo, ty * m, 0, m, b[o], 0,
                                               block.scratch, t.pairing.at)
                }
            }
        }
    }

    /// Whether `winogradForwardPooled` can take this shape: even output tiles that cover the output plane exactly
    /// (Ho and Wo multiples of m), so every 2x2 pooling window lies inside one tile.
    static func winogradPoolsInTiles(_ g: Geometry, _ t: WinogradTransform) -> Bool {
        let m = t.outputTile
        return m % 2 == 0 && g.ho % m == 0 && g.wo % m == 0
    }

    /// The evaluation-mode block after this convolution, fused with the Winograd output transform: out[i, o] =
    /// 2x2 max-pool of relu((bias[o] + (A^T M A)[o]) * scale[o] + shift[o]): [N, O, Ho/2, Wo/2], the same bytes as
    /// `winogradForward` then `BatchNormReLUPool.forward(mode: .evaluation)`, without the convolution's output ever
    /// reaching memory (C kernel `winograd_tiles_out_pool`). Needs `winogradPoolsInTiles(g, t)`.
    static func winogradForwardPooled(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                                      _ b: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                      _ out: UnsafeMutablePointer<Float>, threads: Int, transform t: WinogradTransform,
                                      prepared: [Float]? = nil, isa: KernelISA = .active) {
        precondition(winogradPoolsInTiles(g, t), "Conv2D.winogradForwardPooled: \(g.ho)x\(g.wo) is not whole \(t.outputTile)-tiles")
        let plan = winogradPlan(g, t), kernels = isa.kernels, m = plan.m
        let (hp, wp) = (g.ho / 2, g.wo / 2)
        winogradProducts(g, plan, inp, wt, prepared: prepared, threads: threads, isa: isa) { block in
            forEachImageRun(plan, block.rows) { i, ty, column, count in
                for o in 0..<g.o {
                    kernels.winograd_tiles_out_pool(block.product + o * block.width + column, block.stride, plan.tilesWide, count,
                                                    block.at, m, plan.alpha, out + (i * g.o + o) * hp * wp + ty * (m / 2) * wp, wp,
                                                    b[o], scale[o], shift[o], t.pairing.at)
                }
            }
        }
    }

    /// The weight gradient (per piece, into `work.dweight`'s slice p) and the input gradient (into `work.din`) by the
    /// adjoint of the Winograd forward pass (see the extension's comment); dbias[o] += sum dout[i, o] per image.
    static func winogradBackward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                                 _ dy: UnsafePointer<Float>, _ work: BackwardBuffers, pieces: Int, threads: Int,
                                 transform t: WinogradTransform, isa: KernelISA = .active) {
        let plan = winogradPlan(g, t), kernels = isa.kernels, m = plan.m, hw = g.ho * g.wo
        let u = work.din == nil ? [] : winogradWeights(g, wt, t)
        BLAS.setThreads(1)
        u.withUnsafeBufferPointer { uBuffer in
            t.a.withUnsafeBufferPointer { aBuffer in
                t.b.withUnsafeBufferPointer { bBuffer in
                    guard let a = aBuffer.baseAddress, let bMatrix = bBuffer.baseAddress else { return }
                    Parallel.forEachPiece(count: g.n, pieces: pieces, threads: threads) { piece, images in
                        let buffers = WinogradBuffers(g, plan)
                        let du = UnsafeMutablePointer<Float>.allocateCacheLines(work.dweight == nil ? 0 : plan.positions * g.o * g.c)
                        du.initialize(repeating: 0, count: work.dweight == nil ? 0 : plan.positions * g.o * g.c)
                        defer { buffers.deallocate(); du.deallocate() }
                        let (v, dm, scratch) = (buffers.v, buffers.product, buffers.scratch)
                        if let db = work.dbias.map({ $0 + piece * g.o }) {
                            for i in images { for o in 0..<g.o { db[o] += vectorSum(dy + i * g.outPlane + o * hw, hw, isa: isa) } }
                        }
                        forEachWinogradBlock(plan, images: images) { rows in
                            let width = rows.count * plan.tilesWide
                            let (vStride, dmStride) = (positionStride(rows: g.c, width: width), positionStride(rows: g.o, width: width))
                            for o in 0..<g.o {  // channel by channel, as `winogradInputTransform`
                                forEachImageRun(plan, rows) { i, ty, column, count in
                                    kernels.winograd_tiles_in(dy + (i * g.o + o) * hw, g.ho, g.wo, ty * m, 0, m, plan.tilesWide,
                                                              count, a, plan.alpha, m, dm + o * width + column, dmStride, scratch,
                                                              plan.t.pairing.a)
                                }
                            }
                            if work.dweight != nil {
                                winogradInputTransform(g, plan, inp, rows: rows, v, scratch: scratch, isa: isa)
                                positionGemms(plan, transposeB: true, m: g.o, n: g.c, k: width, a: dm, lda: width, aStride: dmStride,
                                              b: v, ldb: width, bStride: vStride, beta: 1, c: du, ldc: g.c, cStride: g.o * g.c)
                            }
                            guard let dx = work.din, let u = uBuffer.baseAddress else { return }
                            // dV (into v's storage, read above) = U^T dM, then dX += B dV B^T.
                            positionGemms(plan, transposeA: true, m: g.c, n: width, k: g.o, a: u, lda: g.c, aStride: g.o * g.c,
                                          b: dm, ldb: width, bStride: dmStride, beta: 0, c: v, ldc: width, cStride: vStride)
                            forEachTileRow(plan, rows) { i, ty, column in
                                for c in 0..<g.c {
                                    kernels.winograd_tiles_out(v + c * width + column, vStride, plan.tilesWide, bMatrix,
                                                               plan.alpha, plan.alpha, dx + (i * g.c + c) * g.h * g.w, g.h, g.w,
                                                               ty * m - g.p, -g.p, m, 0, 1, scratch, plan.t.pairing.b)
                                }
                            }
                        }
                        if let dw = work.dweight {
                            addWinogradWeightGradient(g, du, t, into: dw + piece * g.o * g.ckk)
                        }
                    }
                }
            }
        }
    }
}
