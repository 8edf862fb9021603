/// Element-wise arithmetic and reductions used across the package. Shapes must match exactly
/// (no broadcasting); mismatches are programmer errors and stop with both shapes printed.
extension Tensor {
    @inline(__always)
    private func checkSameShape(_ other: Tensor, _ op: String) {
        precondition(shape == other.shape, "Tensor.\(op): shapes \(shape) and \(other.shape) differ")
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        var out = lhs
        out.add(rhs)
        return out
    }

    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        var out = lhs
        out.add(rhs, scaledBy: -1)
        return out
    }

    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.scaled(by: rhs) }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.scaled(by: lhs) }

    /// self += alpha * other.
    public mutating func add(_ other: Tensor, scaledBy alpha: Float = 1) {
        checkSameShape(other, "add")
        let n = count
        other.scalars.withUnsafeBufferPointer { src in
            scalars.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { dst[i] += alpha * src[i] }
            }
        }
    }

    /// self *= alpha.
    public mutating func scale(by alpha: Float) {
        let n = count
        scalars.withUnsafeMutableBufferPointer { dst in
            for i in 0..<n { dst[i] *= alpha }
        }
    }

    public func scaled(by alpha: Float) -> Tensor {
        var out = self
        out.scale(by: alpha)
        return out
    }

    /// Element-wise product.
    public func multiplied(by other: Tensor) -> Tensor {
        checkSameShape(other, "multiplied")
        var out = self
        let n = count
        other.scalars.withUnsafeBufferPointer { src in
            out.scalars.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n { dst[i] *= src[i] }
            }
        }
        return out
    }

    /// Applies `transform` to every scalar.
    public func mapped(_ transform: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(transform))
    }

    /// Every scalar clamped to [low, high].
    public func clipped(to low: Float, _ high: Float) -> Tensor {
        mapped { Swift.min(Swift.max($0, low), high) }
    }

    /// Sum of all scalars, accumulated in Double.
    public func sum() -> Float {
        var total: Double = 0
        for v in scalars { total += Double(v) }
        return Float(total)
    }

    public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }

    /// Dot product of the flattened tensors, accumulated in Double.
    public func dot(_ other: Tensor) -> Float {
        precondition(count == other.count, "Tensor.dot: counts \(count) and \(other.count) differ")
        var total: Double = 0
        for i in 0..<count { total += Double(scalars[i]) * Double(other.scalars[i]) }
        return Float(total)
    }

    /// Euclidean norm of the flattened tensor.
    public func norm() -> Float { dot(self).squareRoot() }

    public func max() -> Float { scalars.max() ?? -.infinity }
    public func min() -> Float { scalars.min() ?? .infinity }

    /// True when every scalar is finite (no NaN or infinity).
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    /// Largest |a - b| over matching scalars.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        checkSameShape(other, "maxAbsDifference")
        var worst: Float = 0
        for i in 0..<count { worst = Swift.max(worst, abs(scalars[i] - other.scalars[i])) }
        return worst
    }

    /// For a [N, D] tensor: the index of the largest value in each row.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "Tensor.argmaxRows: needs [N, D], got \(shape)")
        let d = shape[1]
        return (0..<shape[0]).map { row in
            var best = 0
            for j in 1..<d where scalars[row * d + j] > scalars[row * d + best] { best = j }
            return best
        }
    }
}
