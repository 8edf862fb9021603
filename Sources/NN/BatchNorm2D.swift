import CKernels
import Tensor

/// Batch normalisation over (N, H, W) per channel, PyTorch's `nn.BatchNorm2d` semantics.
///
/// Training: mu_c, var_c = mean and biased variance of x[:, c] over M = N*H*W values;
///     y = gamma_c * (x - mu_c) / sqrt(var_c + eps) + beta_c,
///     running_mean = (1 - momentum) running_mean + momentum mu_c,
///     running_var  = (1 - momentum) running_var  + momentum var_c * M / (M - 1)   (unbiased),
///     num_batches_tracked += 1.
/// Evaluation: the running averages replace mu and var.
/// x, y: [N, C, H, W]; gamma (weight), beta (bias), running_mean, running_var: [C].
/// Work is split over channels, and every per-channel sum runs in a fixed order, so results do
/// not depend on the thread count.
public struct BatchNorm2D: Sendable {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public var weight: Tensor
    public var bias: Tensor
    public var runningMean: Tensor
    public var runningVar: Tensor
    public var numBatchesTracked: Int64 = 0

    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        precondition(channels > 0, "BatchNorm2D: channels \(channels) must be positive")
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Tensor(repeating: 1, shape: [channels])
        bias = Tensor(zeros: [channels])
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(repeating: 1, shape: [channels])
    }

    /// What backward needs: the input, the mean and 1/sqrt(var + eps) used, and the mode.
    /// In training, `variance` is the batch's biased variance (for the running-average update).
    public struct Cache: Sendable {
        public let input: Tensor
        public let mean: [Float]
        public let variance: [Float]
        public let inverseStd: [Float]
        public let mode: Mode
    }

    /// x: [N, C, H, W] -> y: [N, C, H, W]. Training mode also updates the running statistics.
    public mutating func forward(_ input: Tensor, mode: Mode, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        let result = normalized(input, mode: mode, threads: threads)
        if mode == .training { updateRunningStatistics(from: result.cache) }
        return result
    }

    /// The forward pass without touching the running statistics (apply them later with
    /// `updateRunningStatistics(from:)`, or never, for an evaluation-only pass).
    public func normalized(_ input: Tensor, mode: Mode, threads: Int = 1) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 4 && input.shape[1] == channels, "BatchNorm2D: input must be [N, \(channels), H, W], got \(input.shape)")
        let n = input.shape[0], hw = input.shape[2] * input.shape[3]
        let (mean, variance, inverseStd) = statistics(input, mode: mode, threads: threads)
        let output = makeTensor(shape: input.shape) { y in
            withPointer(input) { x in
                forEachPlane(n, mean: mean, inverseStd: inverseStd, threads: threads) { plane, scale, shift in
                    let src = x + plane * hw, dst = y + plane * hw
                    for j in 0..<hw { dst[j] = src[j] * scale + shift }
                }
            }
        }
        return (output, Cache(input: input, mean: mean, variance: variance, inverseStd: inverseStd, mode: mode))
    }

    /// Evaluation mode (running statistics) followed by ReLU, in place over x: [N, C, H, W]: max(x * scale + shift, 0)
    /// with `normalized`'s scale and shift, so the same bytes as `ReLU.forward(normalized(x, mode: .evaluation))`.
    public func normalizedWithReLUInPlace(_ input: consuming Tensor, threads: Int = 1) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels, "BatchNorm2D: input must be [N, \(channels), H, W], got \(input.shape)")
        var x = input
        let n = x.shape[0], hw = x.shape[2] * x.shape[3]
        let (mean, _, inverseStd) = statistics(x, mode: .evaluation, threads: threads)
        withMutablePointer(&x) { p in
            forEachPlane(n, mean: mean, inverseStd: inverseStd, threads: threads) { plane, scale, shift in
                let v = p + plane * hw
                for j in 0..<hw { v[j] = Swift.max(v[j] * scale + shift, 0) }
            }
        }
        return x
    }

    /// Evaluation mode's affine map per channel, from the running statistics, with `normalized`'s float operations:
    /// scale = gamma * (1 / sqrt(running var + eps)), shift = beta - running mean * scale. [C] each.
    public var evaluationScaleAndShift: (scale: [Float], shift: [Float]) {
        let gamma = weight.scalars, beta = bias.scalars, mean = runningMean.scalars, variance = runningVar.scalars
        let scale = (0..<channels).map { gamma[$0] * (1 / (variance[$0] + epsilon).squareRoot()) }
        return (scale, (0..<channels).map { beta[$0] - mean[$0] * scale[$0] })
    }

    /// body(plane, scale, shift) for each of the N*C planes, with its channel's affine map scale = gamma / sqrt(var + eps),
    /// shift = beta - mean scale, the planes dealt to `threads` workers.
    private func forEachPlane(_ n: Int, mean: [Float], inverseStd: [Float], threads: Int, _ body: (Int, Float, Float) -> Void) {
        let c = channels
        withPointer(weight) { gamma in
            withPointer(bias) { beta in
                Parallel.forEachChunk(count: n * c, chunks: threads) { _, planes in
                    for plane in planes {
                        let ch = plane % c
                        let scale = gamma[ch] * inverseStd[ch], shift = beta[ch] - mean[ch] * scale
                        body(plane, scale, shift)
                    }
                }
            }
        }
    }

    /// Per-channel (mean, variance, 1/sqrt(variance + eps)) used to normalise: the batch's (biased
    /// variance) in training, the running averages in evaluation. Sums run per channel in a fixed order: per plane
    /// the C kernels of `isa` (`sum`, `centred_squares`), over the planes in Double.
    func statistics(_ input: Tensor, mode: Mode, threads: Int, isa: KernelISA = .active) -> (mean: [Float], variance: [Float], inverseStd: [Float]) {
        let n = input.shape[0], c = channels, hw = input.shape[2] * input.shape[3]
        var mean = [Float](repeating: 0, count: c)
        var variance = [Float](repeating: 0, count: c)
        var inverseStd = [Float](repeating: 0, count: c)
        if mode == .training {
            precondition(n * hw > 1, "BatchNorm2D: training needs more than one value per channel, got input \(input.shape)")
            let m = Double(n * hw)
            let kernels = isa.kernels
            withPointer(input) { x in
                mean.withUnsafeMutableBufferPointer { mu in
                    variance.withUnsafeMutableBufferPointer { va in
                        Parallel.forEachChunk(count: c, chunks: threads) { _, range in
                            for ch in range {
                                var s = 0.0
                                for i in 0..<n { s += Double(kernels.sum(x + (i * c + ch) * hw, hw)) }
                                let mu0 = Float(s / m)
                                var q = 0.0
                                for i in 0..<n { q += Double(kernels.centred_squares(x + (i * c + ch) * hw, hw, mu0)) }
                                mu[ch] = mu0
                                va[ch] = Float(q / m)
                            }
                        }
                    }
                }
            }
        } else {
            mean = runningMean.scalars
            variance = runningVar.scalars
        }
        for ch in 0..<c { inverseStd[ch] = 1 / (variance[ch] + epsilon).squareRoot() }
        return (mean, variance, inverseStd)
    }

    /// running <- (1 - momentum) running + momentum batch (variance unbiased); num_batches_tracked += 1.
    public mutating func updateRunningStatistics(from cache: Cache) {
        precondition(cache.mode == .training, "BatchNorm2D.updateRunningStatistics: the cache is from an evaluation pass")
        let m = Float(cache.input.count / channels)
        for ch in 0..<channels {
            runningMean.scalars[ch] = (1 - momentum) * runningMean.scalars[ch] + momentum * cache.mean[ch]
            runningVar.scalars[ch] = (1 - momentum) * runningVar.scalars[ch] + momentum * cache.variance[ch] * m / (m - 1)
        }
        numBatchesTracked += 1
    }

    /// dout: [N, C, H, W]. Adds into dweight, dbias [C]; returns din [N, C, H, W]. With xhat = (x - mu) * istd:
    ///     dgamma = sum dy * xhat, dbeta = sum dy,
    ///     training:   dx = gamma * istd * (dy - dbeta / M - xhat * dgamma / M)
    ///     evaluation: dx = gamma * istd * dy
    public func backward(dout: Tensor, cache: Cache, dweight: inout Tensor, dbias: inout Tensor, threads: Int = 1) -> Tensor {
        let (din, dgamma, dbeta) = backward(dout: dout, cache: cache, threads: threads)
        precondition(dweight.shape == [channels] && dbias.shape == [channels],
                     "BatchNorm2D.backward: dweight \(dweight.shape), dbias \(dbias.shape) should be [\(channels)]")
        for ch in 0..<channels {
            dweight.scalars[ch] += dgamma[ch]
            dbias.scalars[ch] += dbeta[ch]
        }
        return din
    }

    /// The input gradient and this batch's (dgamma, dbeta), without accumulating them anywhere.
    public func backward(dout: Tensor, cache: Cache, threads: Int = 1) -> (din: Tensor, dweight: [Float], dbias: [Float]) {
        let input = cache.input
        precondition(dout.shape == input.shape, "BatchNorm2D.backward: dout \(dout.shape) vs input \(input.shape)")
        let n = input.shape[0], c = channels, hw = input.shape[2] * input.shape[3]
        let m = Float(n * hw)
        var dgamma = [Float](repeating: 0, count: c)
        var dbeta = [Float](repeating: 0, count: c)
        withPointer(input) { x in
            withPointer(dout) { dy in
                dgamma.withUnsafeMutableBufferPointer { dg in
                    dbeta.withUnsafeMutableBufferPointer { db in
                        Parallel.forEachChunk(count: c, chunks: threads) { _, range in
                            for ch in range {
                                var sumDy = 0.0, sumDyX = 0.0
                                for i in 0..<n {
                                    let off = (i * c + ch) * hw
                                    sumDy += Double(vectorSum(dy + off, hw))
                                    sumDyX += Double(vectorDot(dy + off, x + off, hw))
                                }
                                // sum dy * xhat = istd * (sum dy x - mu sum dy)
                                db[ch] = Float(sumDy)
                                dg[ch] = Float((sumDyX - Double(cache.mean[ch]) * sumDy) * Double(cache.inverseStd[ch]))
                            }
                        }
                    }
                }
            }
        }
        let training = cache.mode == .training
        let din = makeTensor(shape: input.shape) { dx in
            withPointer(input) { x in
                withPointer(dout) { dy in
                    withPointer(weight) { gamma in
                        Parallel.forEachChunk(count: n * c, chunks: threads) { _, planes in
                            for plane in planes {
                                let ch = plane % c
                                let istd = cache.inverseStd[ch], mu = cache.mean[ch]
                                let k = gamma[ch] * istd
                                let src = dy + plane * hw, xs = x + plane * hw, dst = dx + plane * hw
                                if training {
                                    // dx = k dy - k dbeta / M - k istd (x - mu) dgamma / M = a dy + b x + c0
                                    let bx = -k * istd * dgamma[ch] / m
                                    let c0 = -k * dbeta[ch] / m - bx * mu
                                    for j in 0..<hw { dst[j] = k * src[j] + bx * xs[j] + c0 }
                                } else {
                                    for j in 0..<hw { dst[j] = k * src[j] }
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
