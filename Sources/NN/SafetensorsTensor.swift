import Tensor

/// The element types a safetensors file may hold that RobustMRI reads and writes.
///
/// The raw values are the spec's dtype strings. PyTorch's `torch.float32` is `F32`, `torch.int64`
/// (BatchNorm's `num_batches_tracked`, class labels) is `I64`.
public enum SafetensorsDType: String, Sendable, CaseIterable, Equatable {
    case f32 = "F32"
    case f64 = "F64"
    case i64 = "I64"
    case i32 = "I32"
    case u8 = "U8"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        case .u8: return 1
        }
    }
}

/// One tensor as stored in a safetensors file: dtype, shape, and its little-endian bytes.
///
/// A shape of `[]` is a scalar (one element). Typed initialisers encode Swift arrays; typed
/// accessors decode them back (and `precondition` on a dtype mismatch: check `dtype` first, or use
/// the throwing accessors of `SafetensorsFile`).
public struct StoredTensor: Sendable, Equatable {
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Row-major elements, little-endian, `elementCount * dtype.byteSize` bytes.
    public let bytes: [UInt8]

    /// Elements in the shape: the product of its dimensions (1 for `[]`).
    public var elementCount: Int { shape.reduce(1, *) }

    /// A tensor from raw little-endian bytes; the byte count must match shape and dtype.
    public init(dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "StoredTensor: negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) * dtype.byteSize == bytes.count,
            "StoredTensor: shape \(shape) of \(dtype.rawValue) needs \(shape.reduce(1, *) * dtype.byteSize) bytes, got \(bytes.count)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An F32 tensor with the tensor's shape and scalars.
    public init(_ tensor: Tensor) {
        self.init(dtype: .f32, shape: tensor.shape, bytes: littleEndianBytes(tensor.scalars.map(\.bitPattern)))
    }

    public init(float32 values: [Float], shape: [Int]) {
        self.init(dtype: .f32, shape: shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
    }

    public init(float64 values: [Double], shape: [Int]) {
        self.init(dtype: .f64, shape: shape, bytes: littleEndianBytes(values.map(\.bitPattern)))
    }

    public init(int64 values: [Int64], shape: [Int]) {
        self.init(dtype: .i64, shape: shape, bytes: littleEndianBytes(values))
    }

    public init(int32 values: [Int32], shape: [Int]) {
        self.init(dtype: .i32, shape: shape, bytes: littleEndianBytes(values))
    }

    public init(uint8 values: [UInt8], shape: [Int]) {
        self.init(dtype: .u8, shape: shape, bytes: values)
    }

    /// The elements of an F32 tensor.
    public var float32Values: [Float] {
        precondition(dtype == .f32, "StoredTensor.float32Values: dtype is \(dtype.rawValue), shape \(shape)")
        return (decodeLittleEndian(bytes) as [UInt32]).map(Float.init(bitPattern:))
    }

    /// The elements of an F64 tensor.
    public var float64Values: [Double] {
        precondition(dtype == .f64, "StoredTensor.float64Values: dtype is \(dtype.rawValue), shape \(shape)")
        return (decodeLittleEndian(bytes) as [UInt64]).map(Double.init(bitPattern:))
    }

    /// The elements of an I64 tensor.
    public var int64Values: [Int64] {
        precondition(dtype == .i64, "StoredTensor.int64Values: dtype is \(dtype.rawValue), shape \(shape)")
        return decodeLittleEndian(bytes)
    }

    /// The elements of an I32 tensor.
    public var int32Values: [Int32] {
        precondition(dtype == .i32, "StoredTensor.int32Values: dtype is \(dtype.rawValue), shape \(shape)")
        return decodeLittleEndian(bytes)
    }

    /// The elements of a U8 tensor.
    public var uint8Values: [UInt8] {
        precondition(dtype == .u8, "StoredTensor.uint8Values: dtype is \(dtype.rawValue), shape \(shape)")
        return bytes
    }

    /// An F32 tensor as a `Tensor` (a scalar `[]` becomes shape `[]` with one element).
    public var tensor: Tensor {
        Tensor(shape: shape, scalars: float32Values)
    }
}

/// Integers as little-endian bytes, whatever the host's byte order.
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    let size = MemoryLayout<T>.size
    var out = [UInt8](repeating: 0, count: values.count * size)
    out.withUnsafeMutableBytes { raw in
        for (i, value) in values.enumerated() {
            raw.storeBytes(of: value.littleEndian, toByteOffset: i * size, as: T.self)
        }
    }
    return out
}

/// Little-endian bytes as integers; the byte count is a multiple of the integer size.
private func decodeLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8]) -> [T] {
    let size = MemoryLayout<T>.size
    precondition(bytes.count % size == 0, "decodeLittleEndian: \(bytes.count) bytes is not a multiple of \(size)")
    return bytes.withUnsafeBytes { raw in
        (0..<(bytes.count / size)).map { i in
            T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self))
        }
    }
}
