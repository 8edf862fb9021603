/// A dense, contiguous, row-major array of `Float` with a shape.
///
/// Storage is a Swift array (copy-on-write), so a `Tensor` is a value. Kernels reach the storage
/// through `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`; shapes are checked with
/// `precondition`s that print them.
///
/// Legend used in comments across the package: N = batch, C = channels, H = height, W = width,
/// K = kernel size, D = feature dimension.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// A tensor with the given shape and row-major scalars.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor filled with zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// A tensor filled with one value.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Samples from N(mean, std^2), drawn in storage order from `generator`.
    public init(randomNormal shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                generator: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + standardDeviation * generator.nextGaussian() }
        self.init(shape: shape, scalars: values)
    }

    /// Samples from U[low, high), drawn in storage order from `generator`.
    public init(randomUniform shape: [Int], low: Float = 0, high: Float = 1,
                generator: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = low + (high - low) * generator.nextUniform() }
        self.init(shape: shape, scalars: values)
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The same scalars viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(
            newShape.reduce(1, *) == count,
            "Tensor.reshaped: cannot view \(shape) (\(count) scalars) as \(newShape)")
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Changes the shape in place; the element count must not change.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(
            newShape.reduce(1, *) == count,
            "Tensor.reshape: cannot view \(shape) (\(count) scalars) as \(newShape)")
        shape = newShape
    }

    /// Scalars per item of the leading dimension (for [N, ...]: the size of one item).
    public var itemCount: Int {
        precondition(rank >= 1, "Tensor.itemCount: scalar tensor has no leading dimension")
        return shape[0] == 0 ? 0 : count / shape[0]
    }

    /// Items `range` of the leading dimension, as a new tensor.
    public func items(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor.items: range \(range) out of bounds for shape \(shape)")
        let size = itemCount
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * size)..<(range.upperBound * size)]))
    }

    /// Items at `indices` of the leading dimension, in that order, as a new tensor.
    public func gathered(items indices: [Int]) -> Tensor {
        var newShape = shape
        newShape[0] = indices.count
        return Tensor(shape: newShape, scalars: scalars.gatheredItems(indices, shape: shape))
    }

    /// Stacks tensors of equal shape [S...] into [count, S...].
    public static func stacked(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.stacked: nothing to stack")
        let itemShape = tensors[0].shape
        var out: [Float] = []
        out.reserveCapacity(tensors.count * tensors[0].count)
        for t in tensors {
            precondition(t.shape == itemShape, "Tensor.stacked: shape \(t.shape) differs from \(itemShape)")
            out.append(contentsOf: t.scalars)
        }
        return Tensor(shape: [tensors.count] + itemShape, scalars: out)
    }

    /// Joins tensors [N_k, S...] of equal item shape along the leading dimension: [sum N_k, S...].
    public static func concatenated(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.concatenated: nothing to join")
        let itemShape = Array(tensors[0].shape.dropFirst())
        var out: [Float] = []
        out.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for t in tensors {
            precondition(Array(t.shape.dropFirst()) == itemShape, "Tensor.concatenated: shape \(t.shape) does not end in \(itemShape)")
            out.append(contentsOf: t.scalars)
        }
        return Tensor(shape: [tensors.reduce(0) { $0 + $1.shape[0] }] + itemShape, scalars: out)
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    public var description: String {
        let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), scalars: [\(head)\(count > 8 ? ", ..." : "")])"
    }
}

extension Array {
    /// Items at `indices` of the leading dimension of this array read as `shape` (row-major), in that order.
    public func gatheredItems(_ indices: [Int], shape: [Int]) -> [Element] {
        precondition(!shape.isEmpty && shape.reduce(1, *) == count, "gatheredItems: shape \(shape) for \(count) elements")
        let size = shape[0] == 0 ? 0 : count / shape[0]
        var out: [Element] = []
        out.reserveCapacity(indices.count * size)
        for index in indices {
            precondition(index >= 0 && index < shape[0], "gatheredItems: index \(index) out of bounds for shape \(shape)")
            out.append(contentsOf: self[(index * size)..<((index + 1) * size)])
        }
        return out
    }
}
