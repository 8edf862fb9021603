import CBLAS

/// OpenBLAS entry points, row-major.
public enum BLAS {
    /// Sets OpenBLAS's own thread count. The package's convention is 1 (our own `Parallel` splits
    /// the work), except for large single GEMMs/solves run outside any `Parallel` region.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(Swift.max(1, count)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C = alpha * op(A) * op(B) + beta * C, row-major. op(A): [m, k], op(B): [k, n], C: [m, n].
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision GEMM, row-major (used by the influence solvers).
    @inline(__always)
    public static func dgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Tensor {
    /// Matrix product of rank-2 tensors: [m, k] x [k, n] -> [m, n], with optional transposes.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "Tensor.matmul: needs rank-2 tensors, got \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0]
        let k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == k2, "Tensor.matmul: inner dimensions differ: \(shape)\(transposeSelf ? "^T" : "") x \(other.shape)\(transposeOther ? "^T" : "")")
        var out = Tensor(zeros: [m, n])
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                out.scalars.withUnsafeMutableBufferPointer { c in
                    guard m > 0, n > 0 else { return }
                    if k == 0 { return }
                    BLAS.sgemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                               a: a.baseAddress!, lda: shape[1], b: b.baseAddress!, ldb: other.shape[1],
                               c: c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
