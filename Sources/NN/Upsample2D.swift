import Tensor

/// Nearest-neighbour upsampling by 2 (Keras' `UpSampling2D((2, 2))`, PyTorch's
/// `nn.Upsample(scale_factor=2, mode="nearest")`), to an explicit output size so that a U-Net can undo
/// a floor-pooling of an odd side: output (y, x) copies input (min(y / 2, H - 1), min(x / 2, W - 1)).
///
///     out[n, c, y, x] = in[n, c, min(y/2, H-1), min(x/2, W-1)],   Ho in {2H, 2H + 1}, Wo in {2W, 2W + 1}
///     din[n, c, i, j] = sum of dout over the outputs that copy (i, j)
///
/// x: [N, C, H, W] -> y: [N, C, Ho, Wo].
public enum Upsample2D {
    /// What backward needs: the input shape.
    public struct Cache: Sendable {
        public let inputShape: [Int]
    }

    /// The input row (or column) that output row (or column) `o` copies.
    @inline(__always)
    static func source(_ o: Int, _ size: Int) -> Int { Swift.min(o / 2, size - 1) }

    public static func forward(_ input: Tensor, height: Int, width: Int, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 4, "Upsample2D: input must be [N, C, H, W], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1], h = input.shape[2], w = input.shape[3]
        precondition((2 * h...2 * h + 1).contains(height) && (2 * w...2 * w + 1).contains(width),
                     "Upsample2D: output \(height)x\(width) must be 2x (or 2x + 1) the input \(input.shape)")
        let output = makeTensor(shape: [input.shape[0], input.shape[1], height, width]) { y in
            withPointer(input) { x in
                Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                    for plane in range {
                        let src = x + plane * h * w, dst = y + plane * height * width
                        for oy in 0..<height {
                            let row = src + source(oy, h) * w, out = dst + oy * width
                            for ox in 0..<width { out[ox] = row[source(ox, w)] }
                        }
                    }
                }
            }
        }
        return (output, Cache(inputShape: input.shape))
    }

    /// dout: [N, C, Ho, Wo] -> din: [N, C, H, W].
    public static func backward(dout: Tensor, cache: Cache, threads: Int = 1) -> Tensor {
        let s = cache.inputShape
        let planes = s[0] * s[1], h = s[2], w = s[3], height = dout.shape[2], width = dout.shape[3]
        precondition(dout.rank == 4 && Array(dout.shape[0..<2]) == Array(s[0..<2])
                     && (2 * h...2 * h + 1).contains(height) && (2 * w...2 * w + 1).contains(width),
                     "Upsample2D.backward: dout \(dout.shape) does not match the input \(s)")
        return makeTensor(shape: s) { dx in
            withPointer(dout) { dy in
                Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                    for plane in range {
                        let dst = dx + plane * h * w, src = dy + plane * height * width
                        dst.initialize(repeating: 0, count: h * w)
                        for oy in 0..<height {
                            let row = dst + source(oy, h) * w, d = src + oy * width
                            for ox in 0..<width { row[source(ox, w)] += d[ox] }
                        }
                    }
                }
            }
        }
    }
}
