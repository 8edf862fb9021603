import CKernels
/// The matrices of Winograd's minimal filtering algorithm F(m, r) (Lavin & Gray 2016, "Fast Algorithms for
/// Convolutional Neural Networks", section 4): the m outputs y[i] = sum_k g[k] d[i + k] (i < m, k < r) of a 1-D
/// correlation over alpha = m + r - 1 inputs d are
///
///     y = A^T [(G g) ⊙ (B^T d)],        A^T: [m, alpha], G: [alpha, r], B^T: [alpha, alpha],
///
/// alpha multiplications instead of m*r; nested, an m x m output tile of an alpha x alpha input tile D is
/// Y = A^T [(G W G^T) ⊙ (B^T D B)] A (Lavin & Gray eq. 8).
///
/// Construction (Toom-Cook, written here from the interpolation points; Lavin & Gray section 4.1). The polynomial
/// product s(x) = g(x) h(x), g of degree r-1 and h of degree m-1, has degree alpha-1, so it is fixed by its values at
/// alpha-1 finite points a_j and its leading coefficient g[r-1] h[m-1] (the point "at infinity"). With
/// M(x) = prod_l (x - a_l), M_j(x) = M(x) / (x - a_j) and N_j = M_j(a_j) = prod_{l != j} (a_j - a_l), Lagrange gives
///
///     s(x) = sum_j [g(a_j) / N_j] h(a_j) M_j(x) + g[r-1] h[m-1] M(x),
///
/// that is, s = C [(G g) ⊙ (A h)] with, for j < alpha-1,
///     G[j, k] = a_j^k / N_j,   A[j, i] = a_j^i,   column j of C = the coefficients of M_j (x^0 first),
/// and for the last index G[alpha-1, k] = [k = r-1], A[alpha-1, i] = [i = m-1], column alpha-1 of C = those of M.
/// The correlation is the transpose of this product in h (sum_n d[n] s[n] = sum_i h[i] y[i]), so
/// y = A^T [(G g) ⊙ (C^T d)]: B^T = C^T, row j of B^T = the coefficients of M_j (of M for the last row).
///
/// The matrices are formed in Double from the points and rounded once to Float. Points 0, ±1, ±2, ±1/2 keep the
/// entries small (their size drives the fp32 error, see `norms`).
public struct WinogradTransform: Sendable, Equatable {
    /// Output tile m, kernel r, input tile alpha = m + r - 1.
    public let outputTile: Int
    public let kernelSize: Int
    public var inputTile: Int { outputTile + kernelSize - 1 }
    /// The alpha - 1 finite interpolation points.
    public let points: [Double]
    /// A^T: [m, alpha], G: [alpha, r], B^T: [alpha, alpha], row-major; and their transposes A: [alpha, m],
    /// G^T: [r, alpha], B: [alpha, alpha], as the transforms use them.
    public let at, g, bt, a, gt, b: [Float]
    /// Whether each matrix, as the tile transforms take it, has the paired structure (`ck_winograd_has_paired_rows`,
    /// 1 or 0): B^T and A in their rows (`winograd_tiles_in`), A^T and B in their columns (`winograd_tiles_out`).
    public let pairing: Pairing

    /// See `pairing`.
    public struct Pairing: Sendable, Equatable {
        public let bt, a, at, b: Int32

        init(bt: Int32, a: Int32, at: Int32, b: Int32) {
            (self.bt, self.a, self.at, self.b) = (bt, a, at, b)
        }

        /// The checks for B^T: [alpha, alpha], A: [alpha, m], A^T: [m, alpha], B: [alpha, alpha] (row-major).
        init(bt: [Float], a: [Float], at: [Float], b: [Float], outputTile m: Int, inputTile alpha: Int) {
            self.init(bt: ck_winograd_has_paired_rows(bt, alpha, alpha, alpha, 1), a: ck_winograd_has_paired_rows(a, alpha, m, m, 1),
                      at: ck_winograd_has_paired_rows(at, alpha, m, 1, alpha), b: ck_winograd_has_paired_rows(b, alpha, alpha, 1, alpha))
        }
    }

    /// F(m, r) from the alpha - 1 finite `points` (distinct).
    public init(outputTile m: Int, kernelSize r: Int, points: [Double]) {
        let alpha = m + r - 1, n = alpha - 1
        precondition(m >= 1 && r >= 1 && points.count == n && Set(points).count == n,
                     "WinogradTransform: F(\(m), \(r)) needs \(n) distinct points, got \(points)")
        outputTile = m
        kernelSize = r
        self.points = points
        func power(_ x: Double, _ e: Int) -> Double { (0..<e).reduce(1) { p, _ in p * x } }
        /// Coefficients (x^0 first) of prod over `roots` of (x - root).
        func monic(_ roots: [Double]) -> [Double] {
            var c: [Double] = [1]
            for root in roots {
                var next = [Double](repeating: 0, count: c.count + 1)
                for (i, ci) in c.enumerated() {
                    next[i + 1] += ci
                    next[i] -= root * ci
                }
                c = next
            }
            return c
        }
        var atD = [Double](repeating: 0, count: m * alpha), gD = [Double](repeating: 0, count: alpha * r)
        var btD = [Double](repeating: 0, count: alpha * alpha)
        for j in 0..<n {
            let others = points.enumerated().filter { $0.offset != j }.map(\.element)
            let nj = others.reduce(1) { $0 * (points[j] - $1) }
            for i in 0..<m { atD[i * alpha + j] = power(points[j], i) }
            for k in 0..<r { gD[j * r + k] = power(points[j], k) / nj }
            for (i, c) in monic(others).enumerated() { btD[j * alpha + i] = c }
        }
        atD[(m - 1) * alpha + n] = 1
        gD[n * r + r - 1] = 1
        for (i, c) in monic(points).enumerated() { btD[n * alpha + i] = c }
        func transposed(_ x: [Double], rows: Int, columns: Int) -> [Float] {
            (0..<(rows * columns)).map { Float(x[($0 % rows) * columns + $0 / rows]) }
        }
        at = atD.map { Float($0) }
        g = gD.map { Float($0) }
        bt = btD.map { Float($0) }
        a = transposed(atD, rows: m, columns: alpha)
        gt = transposed(gD, rows: alpha, columns: r)
        b = transposed(btD, rows: alpha, columns: alpha)
        pairing = Pairing(bt: bt, a: a, at: at, b: b, outputTile: m, inputTile: alpha)
    }

    /// The same tiles with every matrix entry replaced by its absolute value: run on |W|, |X| (|dY|), it gives the
    /// magnitude S of each result's terms, the scale of its rounding error (the tests' bounds).
    init(absoluteValuesOf t: WinogradTransform) {
        outputTile = t.outputTile
        kernelSize = t.kernelSize
        points = t.points
        (at, g, bt) = (t.at.map(abs), t.g.map(abs), t.bt.map(abs))
        (a, gt, b) = (t.a.map(abs), t.gt.map(abs), t.b.map(abs))
        pairing = Pairing(bt: bt, a: a, at: at, b: b, outputTile: t.outputTile, inputTile: t.inputTile)
    }

    /// Infinity norms (largest absolute row sum) of A^T, G, B^T, A, G^T and B: an entry of L X L^T is at most
    /// norm(L)^2 max|X|, which is how the tests bound the fp32 error of each transform.
    public var norms: (at: Float, g: Float, bt: Float, a: Float, gt: Float, b: Float) {
        func norm(_ x: [Float], columns: Int) -> Float {
            stride(from: 0, to: x.count, by: columns).map { x[$0..<($0 + columns)].reduce(0) { $0 + abs($1) } }.max() ?? 0
        }
        let alpha = inputTile, m = outputTile, r = kernelSize
        return (norm(at, columns: alpha), norm(g, columns: r), norm(bt, columns: alpha),
                norm(a, columns: m), norm(gt, columns: alpha), norm(b, columns: alpha))
    }

    /// F(2, 3) on 0, ±1 (Lavin & Gray's eq. 7, up to the signs of one row of G and of B^T).
    public static let f2x3 = WinogradTransform(outputTile: 2, kernelSize: 3, points: [0, 1, -1])
    /// F(4, 3) on 0, ±1, ±2.
    public static let f4x3 = WinogradTransform(outputTile: 4, kernelSize: 3, points: [0, 1, -1, 2, -2])
    /// F(2, 5) on 0, ±1, ±2.
    public static let f2x5 = WinogradTransform(outputTile: 2, kernelSize: 5, points: [0, 1, -1, 2, -2])
    /// F(3, 5) on 0, ±1, ±2, 1/2.
    public static let f3x5 = WinogradTransform(outputTile: 3, kernelSize: 5, points: [0, 1, -1, 2, -2, 0.5])
    /// F(4, 5) on 0, ±1, ±2, ±1/2.
    public static let f4x5 = WinogradTransform(outputTile: 4, kernelSize: 5, points: [0, 1, -1, 2, -2, 0.5, -0.5])
}
