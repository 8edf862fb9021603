import Tensor

/// 2x2 max pooling with stride 2 (PyTorch's `nn.MaxPool2d(2)`): odd trailing rows/columns are dropped
/// (floor), and among equal values the first in the window (row-major: (0,0), (0,1), (1,0), (1,1)) wins.
///
/// x: [N, C, H, W] -> y: [N, C, H/2, W/2]; backward routes dy to the winning position.
public enum MaxPool2D {
    /// What backward needs: the input shape and, per output, the winner's position in its window (0...3).
    public struct Cache: Sendable {
        public let inputShape: [Int]
        public let winners: [UInt8]
    }

    public static func forward(_ input: Tensor, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 4 && input.shape[2] >= 2 && input.shape[3] >= 2,
                     "MaxPool2D: input must be [N, C, H >= 2, W >= 2], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1], h = input.shape[2], w = input.shape[3]
        let ho = h / 2, wo = w / 2
        var winners = [UInt8](repeating: 0, count: planes * ho * wo)
        let output = makeTensor(shape: [input.shape[0], input.shape[1], ho, wo]) { y in
            withPointer(input) { x in
                winners.withUnsafeMutableBufferPointer { win in
                    let wp = win.baseAddress!
                    Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                        for plane in range {
                            let src = x + plane * h * w
                            for oy in 0..<ho {
                                let r0 = src + 2 * oy * w, r1 = r0 + w
                                let o = (plane * ho + oy) * wo
                                for ox in 0..<wo {
                                    let a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1]
                                    var best = a, index: UInt8 = 0
                                    if b > best { best = b; index = 1 }
                                    if c > best { best = c; index = 2 }
                                    if d > best { best = d; index = 3 }
                                    y[o + ox] = best
                                    wp[o + ox] = index
                                }
                            }
                        }
                    }
                }
            }
        }
        return (output, Cache(inputShape: input.shape, winners: winners))
    }

    /// dout: [N, C, H/2, W/2] -> din: [N, C, H, W], zero except at each window's winner.
    public static func backward(dout: Tensor, cache: Cache, threads: Int = 1) -> Tensor {
        let s = cache.inputShape
        let planes = s[0] * s[1], h = s[2], w = s[3], ho = h / 2, wo = w / 2
        precondition(dout.shape == [s[0], s[1], ho, wo], "MaxPool2D.backward: dout \(dout.shape) should be \([s[0], s[1], ho, wo])")
        return makeTensor(shape: s) { dx in
            withPointer(dout) { dy in
                cache.winners.withUnsafeBufferPointer { win in
                    let wp = win.baseAddress!
                    Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                        for plane in range {
                            let dst = dx + plane * h * w
                            dst.initialize(repeating: 0, count: h * w)
                            for oy in 0..<ho {
                                let o = (plane * ho + oy) * wo
                                for ox in 0..<wo {
                                    let index = Int(wp[o + ox])
                                    dst[(2 * oy + index / 2) * w + 2 * ox + index % 2] = dy[o + ox]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
