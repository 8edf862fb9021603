import CKernels
import Tensor

/// BatchNorm2D -> ReLU -> MaxPool2D(2) fused, for the CNN's blocks: the same forward numbers as the
/// three layers in sequence (same arithmetic, same tie rule), and the same gradients up to summation
/// order, with far less memory traffic and memory:
/// - forward reads the convolution output x twice (statistics) and once more to write the pooled
///   output; the normalised and rectified maps are never stored;
/// - backward forms the BatchNorm sums from the pooled positions only (dy is zero elsewhere) and
///   writes din in one pass.
/// x: [N, C, H, W] -> y: [N, C, H/2, W/2]. With z = relu(gamma (x - mu) istd + beta), y = maxpool(z).
/// The per-plane loops are C kernels of `KernelISA` (`bn_relu_pool_forward`, `_sums`, `_backward`); the unfused
/// layers stay as the reference (`BatchNorm2D`, `ReLU`, `MaxPool2D`) and are tested equal.
public enum BatchNormReLUPool {
    /// BatchNorm's cache (input, statistics, mode) and, per pooled output, the winner's position in its
    /// window (0...3), plus `inactive` when the winner's ReLU output is 0 (no gradient flows).
    public struct Cache: Sendable {
        public let batchNorm: BatchNorm2D.Cache
        public let winners: [UInt8]
        static let inactive: UInt8 = 4
    }

    public static func forward(_ input: Tensor, batchNorm: BatchNorm2D, mode: Mode, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        forward(input, batchNorm: batchNorm, mode: mode, threads: threads, isa: .active)
    }

    static func forward(_ input: Tensor, batchNorm: BatchNorm2D, mode: Mode, threads: Int, isa: KernelISA) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 4 && input.shape[1] == batchNorm.channels && input.shape[2] >= 2 && input.shape[3] >= 2,
                     "BatchNormReLUPool: input must be [N, \(batchNorm.channels), H >= 2, W >= 2], got \(input.shape)")
        let (mean, variance, inverseStd) = batchNorm.statistics(input, mode: mode, threads: threads, isa: isa)
        let c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let planes = input.shape[0] * c, hwo = (h / 2) * (w / 2)
        let kernels = isa.kernels
        var winners = [UInt8](repeating: 0, count: planes * hwo)
        let output = makeTensor(shape: [input.shape[0], c, h / 2, w / 2]) { y in
            withPointer(input) { x in
                withPointer(batchNorm.weight) { gamma in
                    withPointer(batchNorm.bias) { beta in
                        winners.withUnsafeMutableBufferPointer { win in
                            guard let wp = win.baseAddress else { return }
                            Parallel.forEachChunk(count: planes, chunks: threads) { _, range in
                                for plane in range {
                                    let ch = plane % c
                                    let scale = gamma[ch] * inverseStd[ch], shift = beta[ch] - mean[ch] * scale
                                    kernels.bn_relu_pool_forward(x + plane * h * w, h, w, scale, shift, y + plane * hwo, wp + plane * hwo)
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

    /// The evaluation-mode block of a convolution with one input channel: `forward(convolution.forward(x).output,
    /// mode: .evaluation).output` to the bit, by the C kernel `conv1_bn_relu_pool`, which pools each pair of
    /// convolution rows while they are in registers (the convolution's output, 32 planes of the image's size for the
    /// first layer, never reaches memory). x: [N, 1, H, W] -> [N, O, Ho/2, Wo/2].
    public static func evaluatedDirect(_ x: Tensor, convolution: Conv2D, batchNorm: BatchNorm2D, threads: Int = 1,
                                       isa: KernelISA = .active) -> Tensor {
        let g = convolution.geometry(x)
        precondition(g.c == 1 && batchNorm.channels == g.o && g.ho >= 2 && g.wo >= 2,
                     "BatchNormReLUPool.evaluatedDirect: one input channel and \(g.o) BatchNorm channels, got \(g.c) and \(batchNorm.channels)")
        let (scale, shift) = batchNorm.evaluationScaleAndShift
        let kernels = isa.kernels, scratch = ck_conv1_padded_floats(g.k, g.ho, g.wo)
        let plane = g.o * (g.ho / 2) * (g.wo / 2)
        return makeTensor(shape: [g.n, g.o, g.ho / 2, g.wo / 2]) { out in
            withPointer(x) { inp in
                withPointer(convolution.weight) { wt in
                    withPointer(convolution.bias) { b in
                        Parallel.forEachChunk(count: g.n, chunks: threads) { _, images in
                            let padded = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
                            defer { padded.deallocate() }
                            for i in images {
                                kernels.conv1_bn_relu_pool(inp + i * g.inPlane, g.h, g.w, g.k, g.p, g.ho, g.wo, wt, b, scale, shift,
                                                           g.o, padded, out + i * plane)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dout: [N, C, H/2, W/2] -> din: [N, C, H, W] and this batch's (dgamma, dbeta) of the BatchNorm.
    public static func backward(dout: Tensor, cache: Cache, batchNorm: BatchNorm2D, threads: Int = 1)
        -> (din: Tensor, dweight: [Float], dbias: [Float]) {
        backward(dout: dout, cache: cache, batchNorm: batchNorm, threads: threads, isa: .active)
    }

    static func backward(dout: Tensor, cache: Cache, batchNorm: BatchNorm2D, threads: Int, isa: KernelISA)
        -> (din: Tensor, dweight: [Float], dbias: [Float]) {
        let (dgamma, dbeta) = parameterGradients(dout: dout, cache: cache, threads: threads, isa: isa)
        let input = cache.batchNorm.input, planeSize = input.shape[2] * input.shape[3]
        let din = makeTensor(shape: input.shape) { dx in
            Parallel.forEachChunk(count: input.shape[0] * input.shape[1], chunks: threads) { _, planes in
                inputGradient(planes: planes, dout: dout, cache: cache, batchNorm: batchNorm, dweight: dgamma, dbias: dbeta,
                              into: dx + planes.lowerBound * planeSize, isa: isa)
            }
        }
        return (din, dgamma, dbeta)
    }

    /// This batch's (dgamma, dbeta) of the BatchNorm: the first half of `backward`. dout: [N, C, H/2, W/2].
    static func parameterGradients(dout: Tensor, cache: Cache, threads: Int, isa: KernelISA = .active) -> (dweight: [Float], dbias: [Float]) {
        let bn = cache.batchNorm, input = bn.input
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let hwo = (h / 2) * (w / 2)
        precondition(dout.shape == [n, c, h / 2, w / 2], "BatchNormReLUPool.backward: dout \(dout.shape) should be \([n, c, h / 2, w / 2])")
        let kernels = isa.kernels
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
                                        var s: Float = 0, sx: Float = 0
                                        kernels.bn_relu_pool_sums(x + plane * h * w, h, w, dy + plane * hwo, wp + plane * hwo, &s, &sx)
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
        return (dgamma, dbeta)
    }

    /// The input gradient of planes `planes` (plane = image * C + channel), given the batch's (dgamma, dbeta): the second
    /// half of `backward`, written to `dx + (plane - planes.lowerBound) * H * W`, so one image's planes can go to a
    /// buffer of one image.
    static func inputGradient(planes: Range<Int>, dout: Tensor, cache: Cache, batchNorm: BatchNorm2D, dweight dgamma: [Float],
                              dbias dbeta: [Float], into dx: UnsafeMutablePointer<Float>, isa: KernelISA = .active) {
        let bn = cache.batchNorm, input = bn.input
        let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
        let hwo = (h / 2) * (w / 2)
        let training = bn.mode == .training
        let m = Float(n * h * w)
        let kernels = isa.kernels
        withPointer(input) { x in
            withPointer(dout) { dy in
                withPointer(batchNorm.weight) { gamma in
                    cache.winners.withUnsafeBufferPointer { win in
                        guard let wp = win.baseAddress else { return }
                        for plane in planes {
                            let ch = plane % c
                            let istd = bn.inverseStd[ch], k = gamma[ch] * istd
                            // Training: dx = k dy + bx x + c0 (see BatchNorm2D.backward); evaluation: dx = k dy.
                            let bx = training ? -k * istd * dgamma[ch] / m : 0
                            let c0 = training ? -k * dbeta[ch] / m - bx * bn.mean[ch] : 0
                            kernels.bn_relu_pool_backward(x + plane * h * w, h, w, dy + plane * hwo, wp + plane * hwo,
                                                          k, bx, c0, training ? 1 : 0, dx + (plane - planes.lowerBound) * h * w)
                        }
                    }
                }
            }
        }
    }
}
