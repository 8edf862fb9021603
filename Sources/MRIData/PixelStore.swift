import Tensor

/// Pixels [N, ...] kept as bytes when that is exact: every value Float(k) / scale for a byte k, with the bits of that
/// quotient (preprocessed images are multiples of 1/255, `Preprocessing`; masks are 0 / 1: scale 1). Otherwise, as
/// Float. A figshare-jpg dataset at 256 px is 0.16 GB of bytes per copy instead of 0.64 GB of Float; `tensor` gives
/// the Float values back (the same bits), `gathered(items:)` picks items without widening them.
public struct PixelStore: Sendable, Equatable {
    enum Storage: Sendable, Equatable {
        case floats(Tensor)
        case bytes([UInt8])
    }

    public let shape: [Int]
    /// The divisor of a stored byte: 255 for images, 1 for masks.
    public let scale: Float
    let storage: Storage

    /// `values` as bytes when every value is exactly Float(k) / `scale` for a byte k (checked bit for bit), else as
    /// they are.
    public init(_ values: Tensor, scale: Float) {
        precondition(scale >= 1 && scale <= 255, "PixelStore: scale \(scale) must be in [1, 255]")
        shape = values.shape
        self.scale = scale
        storage = Self.bytes(exactly: values, scale: scale).map(Storage.bytes) ?? .floats(values)
    }

    /// Bytes b standing for Float(b) / `scale`, [N, ...] as `shape` says.
    public init(shape: [Int], bytes: [UInt8], scale: Float) {
        precondition(shape.reduce(1, *) == bytes.count, "PixelStore: shape \(shape) needs \(shape.reduce(1, *)) bytes, got \(bytes.count)")
        self.shape = shape
        self.scale = scale
        storage = .bytes(bytes)
    }

    /// Whether the pixels are held as bytes.
    public var isBytes: Bool {
        if case .bytes = storage { return true }
        return false
    }

    /// The bytes, when the pixels are held as bytes.
    public var bytes: [UInt8]? {
        if case .bytes(let b) = storage { return b }
        return nil
    }

    /// The values as Float (a new array when held as bytes).
    public var tensor: Tensor {
        switch storage {
        case .floats(let values): return values
        case .bytes(let b): return Tensor(shape: shape, scalars: Self.floats(b, scale: scale))
        }
    }

    /// Items at `indices` of the leading dimension, in that order, in the same storage.
    public func gathered(items indices: [Int]) -> PixelStore {
        switch storage {
        case .floats(let values):
            return PixelStore(shape: [indices.count] + shape.dropFirst(), scale: scale, storage: .floats(values.gathered(items: indices)))
        case .bytes(let b):
            return PixelStore(shape: [indices.count] + shape.dropFirst(), bytes: b.gatheredItems(indices, shape: shape), scale: scale)
        }
    }

    private init(shape: [Int], scale: Float, storage: Storage) {
        self.shape = shape
        self.scale = scale
        self.storage = storage
    }

    /// Float(b) / scale for every byte, on two threads: exactly the preprocessing's (k / 255) and the cache's values.
    static func floats(_ bytes: [UInt8], scale: Float) -> [Float] {
        bytes.withUnsafeBufferPointer { source in
            let from = UncheckedSendable(source)
            return [Float](unsafeUninitializedCapacity: source.count) { out, initialised in
                let to = UncheckedSendable(out)
                Parallel.forEachChunk(count: source.count, chunks: 2) { _, range in
                    for i in range { to.value[i] = Float(from.value[i]) / scale }
                }
                initialised = source.count
            }
        }
    }

    /// The bytes k with Float(k) / scale == v bit for bit for every value v, or nil when some value has none.
    static func bytes(exactly values: Tensor, scale: Float) -> [UInt8]? {
        values.withUnsafeBufferPointer { source in
            var out = [UInt8](repeating: 0, count: source.count)
            let exact = out.withUnsafeMutableBufferPointer { dst in
                for i in source.indices {
                    let k = (source[i] * scale).rounded()
                    guard k >= 0 && k <= 255 else { return false }
                    let byte = UInt8(k)
                    // The byte's own value (so -0, whose byte reads back as +0, stays Float).
                    guard (Float(byte) / scale).bitPattern == source[i].bitPattern else { return false }
                    dst[i] = byte
                }
                return true
            }
            return exact ? out : nil
        }
    }
}
