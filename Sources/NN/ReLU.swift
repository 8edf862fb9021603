import Tensor

/// y = max(x, 0), element-wise; dx = dy where y > 0, else 0 (PyTorch's subgradient 0 at x = 0).
public enum ReLU {
    /// What backward needs: the output (its sign pattern is the mask).
    public struct Cache: Sendable {
        public let output: Tensor
    }

    /// x: any shape -> y: same shape. Takes the input by value: when the caller no longer holds it,
    /// the result reuses its storage.
    public static func forward(_ input: consuming Tensor, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        var y = input
        let n = y.count
        withMutablePointer(&y) { p in
            Parallel.forEachChunk(count: n, chunks: threads) { _, range in
                for j in range { p[j] = Swift.max(p[j], 0) }
            }
        }
        return (y, Cache(output: y))
    }

    /// dout: same shape as the output -> din.
    public static func backward(dout: consuming Tensor, cache: Cache, threads: Int = 1) -> Tensor {
        precondition(dout.shape == cache.output.shape, "ReLU.backward: dout \(dout.shape) vs output \(cache.output.shape)")
        var dx = dout
        let n = dx.count
        withPointer(cache.output) { y in
            withMutablePointer(&dx) { d in
                Parallel.forEachChunk(count: n, chunks: threads) { _, range in
                    for j in range where y[j] <= 0 { d[j] = 0 }
                }
            }
        }
        return dx
    }
}
