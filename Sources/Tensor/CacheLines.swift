/// Scratch buffers on cache-line boundaries.
extension UnsafeMutablePointer where Pointee == Float {
    /// Bytes of a cache line on the x86-64 and arm64 CPUs this runs on.
    public static let cacheLineBytes = 64

    /// `count` floats (uninitialised) starting on a 64-byte boundary; free with `deallocate()`. The C kernels move
    /// 16-float (64-byte) vectors at multiples of 16 floats from the start of their buffers: from
    /// `allocate(capacity:)`'s 16-byte alignment three in four of those straddle two cache lines, which costs two
    /// accesses each (measured: the Winograd buffers aligned made the 3x3 CNN's evaluation at 128 px 17-19 % faster
    /// and its training 5-10 %).
    public static func allocateCacheLines(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<Float>.stride, alignment: cacheLineBytes)
            .bindMemory(to: Float.self, capacity: Swift.max(count, 1))
    }
}
