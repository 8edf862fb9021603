import CBLAS
import CLAPACKE

/// Dense linear algebra in Double, row-major, over plain `[Double]` arrays: the few LAPACK/BLAS
/// routines the influence solvers need (Cholesky factor/solve, symmetric eigenvalues, symmetric
/// rank-k updates) and vector helpers (dot, norm, axpy).
///
/// Legend: P = order of a square matrix, n = rows of a data matrix, k = its columns.
public enum Linalg {
    /// A failure reported by LAPACK.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Cholesky found a non-positive pivot: the matrix (order `order`) is not positive definite.
        /// Raise the damping, or check the matrix for NaN.
        case notPositiveDefinite(order: Int, pivot: Int)
        /// Another LAPACK error code (`info`) from `routine`.
        case lapack(routine: String, info: Int)

        public var description: String {
            switch self {
            case let .notPositiveDefinite(order, pivot):
                return "Cholesky: the \(order)x\(order) matrix is not positive definite (leading minor \(pivot)); raise the damping"
            case let .lapack(routine, info):
                return "\(routine) failed with info = \(info)"
            }
        }
    }

    // MARK: Vectors

    /// x . y, in order (deterministic).
    public static func dot(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "Linalg.dot: lengths \(x.count) and \(y.count) differ")
        var total = 0.0
        for i in 0..<x.count { total += x[i] * y[i] }
        return total
    }

    /// ||x||_2.
    public static func norm(_ x: [Double]) -> Double { dot(x, x).squareRoot() }

    /// y += alpha * x.
    public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        precondition(x.count == y.count, "Linalg.axpy: lengths \(x.count) and \(y.count) differ")
        for i in 0..<x.count { y[i] += alpha * x[i] }
    }

    /// Cosine of the angle between x and y (0 when either is zero).
    public static func cosine(_ x: [Double], _ y: [Double]) -> Double {
        let denominator = norm(x) * norm(y)
        return denominator > 0 ? dot(x, y) / denominator : 0
    }

    /// ||x - y|| / ||y|| (or ||x - y|| when y is zero).
    public static func relativeDistance(_ x: [Double], from y: [Double]) -> Double {
        precondition(x.count == y.count, "Linalg.relativeDistance: lengths \(x.count) and \(y.count) differ")
        var difference = 0.0
        for i in 0..<x.count { difference += (x[i] - y[i]) * (x[i] - y[i]) }
        let reference = norm(y)
        return difference.squareRoot() / (reference > 0 ? reference : 1)
    }

    /// Matrix-vector product y = A x, A: [rows, cols] row-major.
    public static func matrixVector(_ a: [Double], rows: Int, cols: Int, _ x: [Double]) -> [Double] {
        precondition(a.count == rows * cols && x.count == cols,
                     "Linalg.matrixVector: A has \(a.count) entries for [\(rows), \(cols)], x has \(x.count)")
        var y = [Double](repeating: 0, count: rows)
        guard rows > 0, cols > 0 else { return y }
        a.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(cols), 1,
                                pa.baseAddress!, Int32(cols), px.baseAddress!, 1, 0, py.baseAddress!, 1)
                }
            }
        }
        return y
    }

    // MARK: Matrices

    /// Symmetric rank-k update of the upper triangle: C[upper] = alpha * A^T A + beta * C,
    /// A: [n, k] row-major with leading dimension `lda`, C: [k, k] with leading dimension `ldc`.
    /// Only the upper triangle (j >= i) of C is written.
    public static func gramUpper(
        n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(k), Int32(n), alpha, a, Int32(lda),
                    beta, c, Int32(ldc))
    }

    /// Eigenvalues of a symmetric matrix [P, P] (row-major; the lower triangle is read), ascending
    /// (LAPACKE_dsyevd, values only).
    public static func symmetricEigenvalues(_ matrix: [Double], order: Int) throws -> [Double] {
        precondition(matrix.count == order * order,
                     "Linalg.symmetricEigenvalues: \(matrix.count) entries for order \(order)")
        var a = matrix
        var w = [Double](repeating: 0, count: order)
        guard order > 0 else { return w }
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "L")),
                                  Int32(order), &a, Int32(order), &w)
        if info != 0 { throw Failure.lapack(routine: "LAPACKE_dsyevd", info: Int(info)) }
        return w
    }
}

/// The Cholesky factor L (A = L L^T) of a symmetric positive definite matrix [P, P], kept for
/// repeated solves (LAPACKE_dpotrf / LAPACKE_dpotrs, row-major, lower triangle).
public struct CholeskyFactor: Sendable {
    public let order: Int
    /// Row-major [P, P]; the lower triangle holds L (the upper triangle keeps A's old values).
    public let factor: [Double]

    /// Factors `matrix` ([P, P], row-major, symmetric; the lower triangle is read).
    /// Throws `Linalg.Failure.notPositiveDefinite` when a pivot is not positive.
    public init(factoring matrix: [Double], order: Int) throws {
        precondition(matrix.count == order * order,
                     "CholeskyFactor: \(matrix.count) entries for order \(order)")
        var a = matrix
        if order > 0 {
            let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(order), &a, Int32(order))
            if info > 0 { throw Linalg.Failure.notPositiveDefinite(order: order, pivot: Int(info)) }
            if info < 0 { throw Linalg.Failure.lapack(routine: "LAPACKE_dpotrf", info: Int(info)) }
        }
        self.order = order
        self.factor = a
    }

    /// Solves A x = b for one right-hand side b: [P].
    public func solve(_ b: [Double]) -> [Double] {
        precondition(b.count == order, "CholeskyFactor.solve: right-hand side has \(b.count) entries, order is \(order)")
        var x = b
        guard order > 0 else { return x }
        // dpotrs cannot fail on a valid factor and valid arguments; info < 0 would be a programming error.
        let info = factor.withUnsafeBufferPointer { l in
            LAPACKE_dpotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(order), 1, l.baseAddress, Int32(order),
                           &x, 1)
        }
        precondition(info == 0, "CholeskyFactor.solve: LAPACKE_dpotrs returned \(info)")
        return x
    }
}
