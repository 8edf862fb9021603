import Tensor

/// BatchNorm2D -> ReLU -> MaxPool2D(2) fused, for the CNN's blocks: the same forward numbers as the
/// three layers in sequence (same arithmetic, same tie rule), and the same gradients up to summation
/// order, with far less memory traffic and memory:
/// - forward reads the convolution output x twice (statistics) and once more to write the pooled
///   output; the normalised and rectified maps are never stored;
/// - backward forms the BatchNorm sums from the pooled positions only (dy is zero elsewhere) and
///   writes din in one pass.
/// x: [N, C, H, W] -> y: [N, C, H/2, W/2]. With z = relu(gamma (x - mu) istd + beta), y = maxpool(z).
/// The unfused layers stay as the reference (`BatchNorm2D`, `ReLU`, `MaxPool2D`) and are tested equal.
public enum BatchNormReLUPool {
    /// BatchNorm's cache (input, statistics, mode) and, per pooled output, the winner's position in its
    /// window (0...3), plus `inactive` when the winner's ReLU output is 0 (no gradient flows).
    public struct Cache: Sendable {
        public let batchNorm: BatchNorm2D.Cache
        public let winners: [UInt8]
        static let inactive: UInt8 = 4
    }

    public static func forward(_ input: Tensor, batchNorm: BatchNorm2D, mode: Mode, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 4 && input.shape[1] == batchNorm.channels && input.shape[2] >= 2 && input.shape[3] >= 2,
                     "BatchNormReLUPool: input must be [N, \(batchNorm.channels), H >= 2, W >= 2], got \(input.shape)")
        let (mean, variance, inverseStd) = batchNorm.statistics(input, mode: mode, threads: threads)
        let c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let planes = input.shape[0] * c, ho = h / 2, wo = w / 2
        var winners = [UInt8](repeating: 0, count: planes * ho * wo)
        let output = makeTensor(shape: [input.shape[0], c, ho, wo]) { y in
            withPointer(input) { x in
                withPointer(batchNorm.weight) { gamma in
                    withPointer(batchNorm.bias) { beta in
                        winners.withUnsafeMutableBufferPointer { win in
                            guard let wp = win.baseAddress else { return }
                            Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                                for plane in range {
                                    let ch = plane % c
                                    let scale = gamma[ch] * inverseStd[ch], shift = beta[ch] - mean[ch] * scale
                                    let src = x + plane * h * w
                                    for oy in 0..<ho {
                                        let r0 = src + 2 * oy * w, r1 = r0 + w
                                        let o = (plane * ho + oy) * wo
                                        var ox = 0
                                        // Four windows at a time, branch-free (random data defeats branch prediction).
                                        while ox + 4 <= wo {
                                            let top = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
                                            let bottom = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
                                            let vscale = SIMD4<Float>(repeating: scale), vshift = SIMD4<Float>(repeating: shift)
                                            let zero = SIMD4<Float>()
                                            let a = relu(top.evenHalf * vscale + vshift)
                                            let b = relu(top.oddHalf * vscale + vshift)
                                            let cc = relu(bottom.evenHalf * vscale + vshift)
                                            let d = relu(bottom.oddHalf * vscale + vshift)
                                            var best = a, index = SIMD4<Int32>()
                                            var m = b .> best
                                            best.replace(with: b, where: m)
                                            index.replace(with: 1, where: m)
                                            m = cc .> best
                                            best.replace(with: cc, where: m)
                                            index.replace(with: 2, where: m)
                                            m = d .> best
                                            best.replace(with: d, where: m)
                                            index.replace(with: 3, where: m)
                                            index.replace(with: index | 4, where: .!(best .> zero))
                                            UnsafeMutableRawPointer(y + o + ox).storeBytes(of: best, as: SIMD4<Float>.self)
                                            for j in 0..<4 { wp[o + ox + j] = UInt8(truncatingIfNeeded: index[j]) }
                                            ox += 4
                                        }
                                        while ox < wo {
                                            let a = Swift.max(r0[2 * ox] * scale + shift, 0)
                                            let b = Swift.max(r0[2 * ox + 1] * scale + shift, 0)
                                            let cc = Swift.max(r1[2 * ox] * scale + shift, 0)
                                            let d = Swift.max(r1[2 * ox + 1] * scale + shift, 0)
                                            var best = a, index: UInt8 = 0
                                            if b > best { best = b; index = 1 }
                                            if cc > best { best = cc; index = 2 }
                                            if d > best { best = d; index = 3 }
                                            y[o + ox] = best
                                            wp[o + ox] = best > 0 ? index : index | Cache.inactive
                                            ox += 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let bnCache = BatchNorm2D.Cache(input: input, mean: mean, variance: variance, inverseStd: inverseStd, mode: mode)
        return (output, Cache(batchNorm: bnCache, winners: winners))
    }

    /// max(v, 0) per lane (the standard library's generic `pointwiseMax` is not inlined here).
    @inline(__always)
    static func relu(_ v: SIMD4<Float>) -> SIMD4<Float> {
        v.replacing(with: 0, where: v .< 0)
    }

    /// dout: [N, C, H/2, W/2] -> din: [N, C, H, W] and this batch's (dgamma, dbeta) of the BatchNorm.
    public static func backward(dout: Tensor, cache: Cache, batchNorm: BatchNorm2D, threads: Int = 1)
        -> (din: Tensor, dweight: [Float], dbias: [Float]) {
        let bn = cache.batchNorm, input = bn.input
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let ho = h / 2, wo = w / 2, hwo = ho * wo
        precondition(dout.shape == [n, c, ho, wo], "BatchNormReLUPool.backward: dout \(dout.shape) should be \([n, c, ho, wo])")
        /// Offset of the winner of pooled output (oy, ox) inside its input plane.
        @inline(__always) func position(_ index: UInt8, _ oy: Int, _ ox: Int) -> Int {
            (2 * oy + Int(index >> 1)) * w + 2 * ox + Int(index & 1)
        }
        var dgamma = [Float](repeating: 0, count: c)
        var dbeta = [Float](repeating: 0, count: c)
        withPointer(input) { x in
            withPointer(dout) { dy in
                cache.winners.withUnsafeBufferPointer { win in
                    dgamma.withUnsafeMutableBufferPointer { dg in
                        dbeta.withUnsafeMutableBufferPointer { db in
                            guard let wp = win.baseAddress, let dgp = dg.baseAddress, let dbp = db.baseAddress else { return }
                            Parallel.forEachChunk(count: c, chunks: threads) { _, range in
                                for ch in range {
                                    var sumDy = 0.0, sumDyX = 0.0
                                    for i in 0..<n {
                                        let plane = i * c + ch
                                        let src = x + plane * h * w
                                        var s: Float = 0, sx: Float = 0
                                        for oy in 0..<ho {
                                            for ox in 0..<wo {
                                                let o = plane * hwo + oy * wo + ox
                                                let index = wp[o]
                                                let g = index & Cache.inactive == 0 ? dy[o] : 0  // branch-free
                                                s += g
                                                sx += g * src[position(index & 3, oy, ox)]
                                            }
                                        }
                                        sumDy += Double(s)
                                        sumDyX += Double(sx)
                                    }
                                    dbp[ch] = Float(sumDy)
                                    dgp[ch] = Float((sumDyX - Double(bn.mean[ch]) * sumDy) * Double(bn.inverseStd[ch]))
                                }
                            }
                        }
                    }
                }
            }
        }
        let training = bn.mode == .training
        let m = Float(n * h * w)
        let din = makeTensor(shape: input.shape) { dx in
            withPointer(input) { x in
                withPointer(dout) { dy in
                    withPointer(batchNorm.weight) { gamma in
                        cache.winners.withUnsafeBufferPointer { win in
                            guard let wp = win.baseAddress else { return }
                            Parallel.forEachChunk(count: n * c, chunks: threads) { _, planes in
                                for plane in planes {
                                    let ch = plane % c
                                    let istd = bn.inverseStd[ch], k = gamma[ch] * istd
                                    // Training: dx = k dy + bx x + c0 (see BatchNorm2D.backward); evaluation: dx = k dy.
                                    let bx = training ? -k * istd * dgamma[ch] / m : 0
                                    let c0 = training ? -k * dbeta[ch] / m - bx * bn.mean[ch] : 0
                                    let xs = x + plane * h * w, dst = dx + plane * h * w
                                    if training {
                                        for j in 0..<(h * w) { dst[j] = bx * xs[j] + c0 }
                                    } else {
                                        dst.initialize(repeating: 0, count: h * w)
                                    }
                                    for oy in 0..<ho {
                                        for ox in 0..<wo {
                                            let o = plane * hwo + oy * wo + ox
                                            let index = wp[o]
                                            if index & Cache.inactive != 0 { continue }
                                            let j = position(index, oy, ox)
                                            dst[j] = training ? k * dy[o] + bx * xs[j] + c0 : k * dy[o]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (din, dgamma, dbeta)
    }
}
