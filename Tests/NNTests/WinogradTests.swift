import CKernels
@testable import NN
import Tensor
import Testing
import TestSupport

/// Winograd convolution (`Conv2D.Kernel.winograd`, `Conv2DWinograd.swift`) against the naive loops: output, input
/// gradient, weight and bias gradient, for every F(m, r) tile size, on planes the tiles do not divide, batches below
/// and above the reduction's pieces, at 1 and 2 threads; the same bytes run after run and at any thread count; and
/// finite differences of the layer.
///
/// Tolerance, derived from fp32 rounding (a worst-case bound, not tuned). A result formed through a chain of sums of
/// products with at most k roundings on each path is within k u S of its exact value (first order; Higham, "Accuracy
/// and Stability of Numerical Algorithms", section 3.1), u = 2^-24 the unit roundoff and S the same computation with
/// every matrix entry and datum replaced by its absolute value: S is computed entry by entry, by running the same
/// Winograd code with |A^T|, |G|, |B^T| (`WinogradTransform(absoluteValuesOf:)`) on |W|, |X|, |b|, |dY|. (With norms
/// instead, ||L X L^T|| <= ||L||^2 max|X|, the bound is C ||A^T||^2 ||G||^2 ||B^T||^2 max|W| max|X| for the output, as
/// `oneDimensionalIdentity` uses; per entry it is tighter.) For F(m, r), alpha = m + r - 1, T tiles per image, N images:
///
///     output:          k = 2r (G W G^T) + 2 alpha (B^T X B) + 1 (⊙) + C (sgemm) + 2 alpha (A^T M A) + 1 (bias) + 6
///     input gradient:  k = 2m (A dY A^T) + 2r + 1 + O (sgemm) + 2 alpha (B dV B^T) + v^2 (overlapping patches) + 6
///     weight gradient: k = 2m + 2 alpha + 1 + N T (sgemm over tiles) + 8 (pieces) + 2 alpha (G^T dU G) + 6
///
/// where v = ceil(alpha / m) patches overlap per axis, and + 6 covers the rounding of the six matrices' entries to
/// Float (u relative each). The naive loops are within k' u S' with S' their own absolute sums (the naive loops run on
/// the absolute values) and k' = C K^2 + 1, O K^2, N Ho Wo. Each entry may differ by the sum of the two bounds.
/// Measured differences were 2e-4 to 3e-2 of the bound (1e-7 to 5e-6 of the largest entry). The bias gradient is a
/// plain sum on both sides: the grouped-gradient tests' statistical bound.
@Suite struct WinogradTests {
    static let u = Float.ulpOfOne / 2

    /// Per-entry bounds on |winograd - naive| for output, input gradient and weight gradient.
    func bounds(_ t: WinogradTransform, _ conv: Conv2D, _ x: Tensor, _ dy: Tensor) -> [Tensor] {
        let g = conv.geometry(x)
        var absolute = conv
        absolute.weight = conv.weight.mapped(abs)
        absolute.bias = conv.bias.mapped(abs)
        let (ax, ady) = (x.mapped(abs), dy.mapped(abs))
        let s = run(absolute, ax, ady, transform: WinogradTransform(absoluteValuesOf: t), threads: 1)
        let naive = run(absolute, ax, ady, transform: nil, threads: 1)
        let (m, r, alpha) = (Float(t.outputTile), Float(t.kernelSize), Float(t.inputTile))
        let v = Float((t.inputTile + t.outputTile - 1) / t.outputTile)
        let tiles = Float(((g.ho + t.outputTile - 1) / t.outputTile) * ((g.wo + t.outputTile - 1) / t.outputTile))
        let k = [2 * r + 4 * alpha + Float(g.c) + 8, 2 * m + 2 * r + 1 + Float(g.o) + 2 * alpha + v * v + 6,
                 2 * m + 4 * alpha + 1 + Float(g.n) * tiles + 8 + 6]
        let kNaive = [Float(g.ckk + 1), Float(g.o * g.k * g.k), Float(g.n * g.ho * g.wo)]
        return (0..<3).map { i in
            Tensor(shape: s[i].shape, scalars: zip(s[i].scalars, naive[i].scalars).map { Self.u * (k[i] * $0 + kNaive[i] * $1) })
        }
    }

    /// The largest |a - b| / bound over the entries (at most 1 within the bound).
    func worstRatio(_ a: Tensor, _ b: Tensor, _ bound: Tensor) -> Float {
        (0..<a.count).map { abs(a.scalars[$0] - b.scalars[$0]) / bound.scalars[$0] }.max() ?? 0
    }

    /// Output, input gradient, weight and bias gradient with `transform` (nil: the naive loops).
    func run(_ conv: Conv2D, _ x: Tensor, _ dy: Tensor, transform: WinogradTransform?, threads: Int,
             isa: KernelISA = .active) -> [Tensor] {
        let g = conv.geometry(x)
        let pieces = Swift.max(1, Swift.min(Parallel.reductionPieces, g.n))
        var y = Tensor(zeros: [g.n, g.o, g.ho, g.wo]), dx = Tensor(zeros: x.shape)
        var dw = [Float](repeating: 0, count: pieces * conv.weight.count), db = [Float](repeating: 0, count: pieces * g.o)
        withPointer(x) { inp in
            withPointer(conv.weight) { wt in
                withPointer(conv.bias) { b in
                    withPointer(dy) { d in
                        withMutablePointer(&y) { out in
                            withMutablePointer(&dx) { din in
                                dw.withUnsafeMutableBufferPointer { dwp in
                                    db.withUnsafeMutableBufferPointer { dbp in
                                        let work = Conv2D.BackwardBuffers(dweight: dwp.baseAddress, dbias: dbp.baseAddress, din: din)
                                        if let transform {
                                            Conv2D.winogradForward(g, inp, wt, b, out, threads: threads, transform: transform, isa: isa)
                                            Conv2D.winogradBackward(g, inp, wt, d, work, pieces: pieces, threads: threads,
                                                                    transform: transform, isa: isa)
                                        } else {
                                            Conv2D.naiveForward(g, inp, wt, b, out)
                                            Conv2D.naiveBackward(g, inp, wt, d, work)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        func reduced(_ parts: [Float], _ size: Int) -> [Float] {
            (0..<size).map { i in (0..<pieces).reduce(Float(0)) { $0 + parts[$1 * size + i] } }
        }
        return [y, dx, Tensor(shape: conv.weight.shape, scalars: reduced(dw, conv.weight.count)),
                Tensor(shape: [g.o], scalars: reduced(db, g.o))]
    }

    /// Every tile size in 1-D: y = A^T [(G g) ⊙ (B^T d)] against the correlation, in Double from the Float matrices
    /// (their rounding, u relative per entry, is all that may differ: |error| <= 3 u ||A^T|| ||G|| ||B^T|| max|g| max|d|).
    @Test(arguments: [WinogradTransform.f2x3, .f4x3, .f2x5, .f3x5, .f4x5])
    func oneDimensionalIdentity(_ t: WinogradTransform) {
        let m = t.outputTile, r = t.kernelSize, alpha = t.inputTile
        let g = randomTensor([r], seed: 31).scalars.map(Double.init), d = randomTensor([alpha], seed: 32).scalars.map(Double.init)
        let gg = (0..<alpha).map { j in (0..<r).reduce(0.0) { $0 + Double(t.g[j * r + $1]) * g[$1] } }
        let bd = (0..<alpha).map { j in (0..<alpha).reduce(0.0) { $0 + Double(t.bt[j * alpha + $1]) * d[$1] } }
        let norms = t.norms
        let bound = 3 * Double(Self.u * norms.at * norms.g * norms.bt)
        for i in 0..<m {
            let y = (0..<alpha).reduce(0.0) { $0 + Double(t.at[i * alpha + $1]) * gg[$1] * bd[$1] }
            let exact = (0..<r).reduce(0.0) { $0 + g[$1] * d[i + $1] }
            #expect(abs(y - exact) <= bound, "F(\(m), \(r)) output \(i): \(y) vs \(exact), bound \(bound)")
        }
    }

    /// (transform, padding, C, O, H, W, N): planes the tiles do not divide; N below and above the 8 pieces.
    static let cases: [(WinogradTransform, Conv2D.Padding, Int, Int, Int, Int, Int)] = [
        (.f4x3, .same, 3, 5, 13, 11, 3), (.f4x3, .same, 8, 4, 9, 10, 10), (.f2x3, .same, 4, 3, 7, 12, 2),
        (.f2x5, .valid, 3, 5, 13, 11, 3), (.f2x5, .valid, 6, 7, 12, 9, 10), (.f3x5, .valid, 4, 3, 14, 11, 2),
        (.f4x5, .valid, 4, 6, 13, 16, 1), (.f2x5, .same, 2, 3, 9, 8, 4), (.f4x3, .valid, 5, 2, 11, 14, 9),
        // Rows of 4 and 8 tiles, which the input transform packs into 16-lane groups (odd row counts: a partial one).
        (.f4x3, .same, 3, 4, 14, 16, 3), (.f4x3, .same, 3, 4, 11, 32, 2), (.f4x5, .valid, 3, 4, 13, 20, 2),
        (.f4x3, .valid, 2, 3, 22, 34, 3),
    ]

    @Test(arguments: cases)
    func matchesNaiveWithinTheDerivedBound(_ shape: (WinogradTransform, Conv2D.Padding, Int, Int, Int, Int, Int)) {
        let (t, padding, c, o, h, w, n) = shape
        var generator = SeededGenerator(seed: 41)
        let conv = Conv2D(inputChannels: c, outputChannels: o, kernelSize: t.kernelSize, padding: padding, generator: &generator)
        let x = randomTensor([n, c, h, w], seed: 42)
        let ho = conv.outputSize(h), wo = conv.outputSize(w)
        let dy = randomTensor([n, o, ho, wo], seed: 43)
        let naive = run(conv, x, dy, transform: nil, threads: 1)
        let bounds = bounds(t, conv, x, dy)
        let biasTolerance = Conv2DGroupedGradientTests.tolerance(reduction: n * ho * wo)
        let label = "F(\(t.outputTile), \(t.kernelSize)) \(shape.1) \(c)->\(o) \(h)x\(w) N=\(n)"
        for threads in [1, 2] {
            let fast = run(conv, x, dy, transform: t, threads: threads)
            for (index, name) in ["output", "input gradient", "weight gradient"].enumerated() {
                let ratio = worstRatio(fast[index], naive[index], bounds[index])
                #expect(ratio <= 1, "\(label) \(name): worst |difference| / bound \(ratio)")
            }
            #expect(relativeError(fast[3], naive[3]) < biasTolerance, "\(label) bias gradient")
        }
    }

    /// A layer for `t` (3x3 same, 5x5 valid), input [N, C, H, W] and dout, from `seed` on; every result's bits.
    func bitsOfRuns(_ t: WinogradTransform, _ shape: [Int], outputs: Int, seed: UInt64,
                    _ runs: [(threads: Int, isa: KernelISA)]) -> [[[UInt32]]] {
        var generator = SeededGenerator(seed: seed)
        let padding: Conv2D.Padding = t.kernelSize == 3 ? .same : .valid
        let conv = Conv2D(inputChannels: shape[1], outputChannels: outputs, kernelSize: t.kernelSize, padding: padding,
                          generator: &generator)
        let x = randomTensor(shape, seed: seed + 1)
        let dy = randomTensor([shape[0], outputs, conv.outputSize(shape[2]), conv.outputSize(shape[3])], seed: seed + 2)
        return runs.map { run(conv, x, dy, transform: t, threads: $0.threads, isa: $0.isa).map { $0.scalars.map(\.bitPattern) } }
    }

    /// The same bytes run after run at one thread, and at 2 and 3 threads (the blocks lie inside the fixed pieces).
    @Test(arguments: [WinogradTransform.f4x3, .f2x5])
    func identicalRunAfterRunAndAtAnyThreadCount(_ t: WinogradTransform) {
        let runs = bitsOfRuns(t, [11, 6, 15, 13], outputs: 5, seed: 51, [1, 1, 2, 3].map { (threads: $0, isa: KernelISA.active) })
        for (index, threads) in [1, 2, 3].enumerated() { #expect(runs[index + 1] == runs[0], "\(threads) threads") }
    }

    /// The transforms of symmetric points have the layout the C kernels' paired loops take (`ck_winograd_has_paired_rows`:
    /// about half the products): B^T and A in their rows, A^T and B in their columns. F(3, 5) (alpha 7, points not
    /// symmetric) and a matrix with one pair broken do not, and run the dense or general loops.
    @Test(arguments: [WinogradTransform.f2x3, .f4x3, .f2x5, .f4x5])
    func symmetricPointsGivePairedMatrices(_ t: WinogradTransform) {
        let (alpha, m) = (t.inputTile, t.outputTile)
        #expect(ck_winograd_has_paired_rows(t.bt, alpha, alpha, alpha, 1) == 1)
        #expect(ck_winograd_has_paired_rows(t.a, alpha, m, m, 1) == 1)
        #expect(ck_winograd_has_paired_rows(t.at, alpha, m, 1, alpha) == 1)
        #expect(ck_winograd_has_paired_rows(t.b, alpha, alpha, 1, alpha) == 1)
        var broken = t.bt
        broken[alpha + 1] += 1  // row 1, column 1: no longer the opposite of row 2's
        #expect(ck_winograd_has_paired_rows(broken, alpha, alpha, alpha, 1) == 0)
        let odd = WinogradTransform.f3x5
        #expect(ck_winograd_has_paired_rows(odd.bt, odd.inputTile, odd.inputTile, odd.inputTile, 1) == 0)
        // What the transform records for the kernels (found once, passed on every call) is these checks' answer.
        #expect(t.pairing == WinogradTransform.Pairing(bt: 1, a: 1, at: 1, b: 1))
        #expect(odd.pairing.bt == 0)
    }

    /// Prepared weights (`Conv2D.prepareWinogradWeights`, made once for evaluation passes) give the forward pass's
    /// bytes, and a weight changed after preparing is used as it is now, never with its stale transform.
    @Test func preparedWeightsGiveTheSameBytesAndNeverGoStale() {
        var generator = SeededGenerator(seed: 81)
        var conv = Conv2D(inputChannels: 6, outputChannels: 5, kernelSize: 5, padding: .valid, generator: &generator)
        let x = randomTensor([3, 6, 17, 14], seed: 82)
        let plain = conv.forward(x, kernel: .winograd).output
        conv.prepareWinogradWeights()
        #expect(conv.preparedWinogradWeights != nil)
        #expect(conv.forward(x, kernel: .winograd).output.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern))
        conv.weight = conv.weight.mapped { $0 * 0.5 + 0.01 }
        #expect(conv.preparedWinogradWeights == nil)
        var fresh = conv
        fresh.preparedWinograd = nil
        #expect(conv.forward(x, kernel: .winograd).output.scalars.map(\.bitPattern)
                == fresh.forward(x, kernel: .winograd).output.scalars.map(\.bitPattern))
        #expect(conv.forward(x, kernel: .winograd).output.scalars.map(\.bitPattern) != plain.scalars.map(\.bitPattern))
    }

    /// A CNN prepares the transforms of exactly the layers `.automatic` runs by Winograd at its image size: the
    /// authors' CNN at 256 px its layers 2-4 (output planes 122, 57 and 24 px), not the first (one input channel) nor
    /// the last (8 px).
    @Test func aCNNPreparesItsWinogradLayersOnly() throws {
        var generator = SeededGenerator(seed: 83)
        var cnn = try CNN(configuration: .authors(imageSize: 256), generator: &generator)
        cnn.prepareWinogradWeights()
        #expect(cnn.blocks.map { $0.convolution.preparedWinogradWeights != nil } == [false, true, true, true, false])
    }

    /// Every instruction-set path of the tile transforms (`KernelISA.supported`) gives the same bytes: 16 tiles per
    /// vector on every path, the same order of sums (index order, or the paired halves), no fused multiply-add
    /// (ckernels.h). Tile sizes with the unrolled
    /// loops (F(4, 3), F(4, 5)) and with the general ones (F(2, 3), F(3, 5)).
    /// `winograd_tiles_in` over several rows of 4 or 8 tiles at once (packed into 16-lane groups) gives the bytes of
    /// one call per row, on every path: F(4, 3)'s B^T (input, padding 1) and A (dY), F(4, 5)'s B^T (valid), 1 to 5 rows
    /// (whole and partial groups), the plane's first and last rows among them.
    @Test(arguments: [(WinogradTransform.f4x3, false, 1), (.f4x3, true, 0), (.f4x5, false, 0)])
    func packedRowsGiveTheBytesOfRowByRow(_ t: WinogradTransform, _ gradient: Bool, _ padding: Int) {
        let m = t.outputTile, alpha = t.inputTile
        let (l, p, s) = gradient ? (t.a, alpha, m) : (t.bt, alpha, alpha)
        let paired = Int32(ck_winograd_has_paired_rows(l, p, s, s, 1))
        #expect(paired == 1)
        for tiles in [4, 8] {
            let side = tiles * m + (gradient ? 0 : alpha - m - 2 * padding), tileRows = 5
            let height = tileRows * m + (gradient ? 0 : alpha - m - 2 * padding)
            let plane = randomTensor([height * side], seed: 71).scalars
            for isa in KernelISA.supported {
                for rows in 1...tileRows {
                    let ld = tileRows * tiles + 16, count = p * p * ld
                    var rowByRow = [Float](repeating: 0, count: count), packed = rowByRow
                    var scratch = [Float](repeating: 0, count: ck_winograd_scratch_floats(tiles, m, p, s))
                    let first = tileRows - rows  // the last `rows` tile rows: the plane's last rows among them
                    for (target, perCall) in [(0, 1), (1, rows)] {
                        var out = [Float](repeating: 0, count: count)
                        out.withUnsafeMutableBufferPointer { buffer in
                            guard let base = buffer.baseAddress else { return }
                            for r in stride(from: 0, to: rows, by: perCall) {
                                let y0 = (first + r) * m - padding
                                isa.kernels.winograd_tiles_in(plane, height, side, y0, -padding, m, tiles, perCall, l, p, s,
                                                              base + r * tiles, ld, &scratch, paired)
                            }
                        }
                        if target == 0 { rowByRow = out } else { packed = out }
                    }
                    let used = (0..<(p * p)).flatMap { xi in (0..<(rows * tiles)).map { xi * ld + $0 } }
                    #expect(used.map { packed[$0].bitPattern } == used.map { rowByRow[$0].bitPattern },
                            "\(isa), \(tiles) tiles, \(rows) rows")
                }
            }
        }
    }

    @Test(arguments: [WinogradTransform.f4x3, .f4x5, .f2x3, .f3x5])
    func everyInstructionSetPathGivesTheSameBytes(_ t: WinogradTransform) {
        let isas = KernelISA.supported
        let settings = [(threads: 1, isa: KernelISA.baseline)] + isas.map { (threads: 2, isa: $0) }
        let runs = bitsOfRuns(t, [3, 5, 37, 23], outputs: 3, seed: 71, settings)
        for (index, isa) in isas.enumerated() { #expect(runs[index + 1] == runs[0], "\(isa)") }
    }

    /// The public path: `.winograd` through `forward`/`backward`, against central finite differences of
    /// L = sum dY ⊙ forward(x) in the input, the weight and the bias. L is linear in each, so a central difference
    /// has no truncation error at any step: a step of 1/2 (exact in Float) keeps the forward pass's rounding noise
    /// (about 1e-6 per output, measured above, times sqrt(outputs) in L) far below the tolerance even for small entries.
    static let step: Float = 0.5

    @Test(arguments: [(3, Conv2D.Padding.same), (5, .valid)])
    func gradientsMatchFiniteDifferences(k: Int, padding: Conv2D.Padding) {
        var generator = SeededGenerator(seed: 61)
        let conv = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: k, padding: padding, generator: &generator)
        let x = randomTensor([2, 3, 11, 10], seed: 62)
        let r = randomTensor([2, 4, conv.outputSize(11), conv.outputSize(10)], seed: 63)
        let (_, cache) = conv.forward(x, kernel: .winograd)
        var dw = Tensor(zeros: conv.weight.shape), db = Tensor(zeros: conv.bias.shape)
        let dx = conv.backward(dout: r, cache: cache, dweight: &dw, dbias: &db, kernel: .winograd)
        let loss = { (c: Conv2D, input: Tensor) in probe(c.forward(input, kernel: .winograd).output, r) }
        let byInput = gradientCheck(of: { loss(conv, $0) }, at: x, analytic: dx, step: Self.step)
        let byWeight = gradientCheck(of: { w in
            var c = conv
            c.weight = w
            return loss(c, x)
        }, at: conv.weight, analytic: dw, step: Self.step)
        let byBias = gradientCheck(of: { b in
            var c = conv
            c.bias = b
            return loss(c, x)
        }, at: conv.bias, analytic: db, step: Self.step)
        #expect(byInput.worst < FiniteDifference.tolerance, "input: \(byInput)")
        #expect(byWeight.worst < FiniteDifference.tolerance, "weight: \(byWeight)")
        #expect(byBias.worst < FiniteDifference.tolerance, "bias: \(byBias)")
    }
}
