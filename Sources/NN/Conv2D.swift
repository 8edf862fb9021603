import Foundation
import Tensor

/// 2-D convolution (cross-correlation, as PyTorch's `nn.Conv2d`), square kernel, stride 1, with bias.
///
///     out[n, o, y, x] = bias[o] + sum_{c, ky, kx} weight[o, c, ky, kx] * in[n, c, y + ky - P, x + kx - P]
///
/// in: [N, C, H, W], weight: [O, C, K, K], bias: [O], out: [N, O, Ho, Wo] with Ho = H + 2P - K + 1.
/// P = 0 (`.valid`) or (K - 1) / 2 (`.same`, odd K). Work is split over images; OpenBLAS runs with one
/// thread inside each piece, and weight gradients are summed per piece, then reduced in piece order,
/// so a fixed thread count gives identical numbers run after run.
public struct Conv2D: Sendable {
    public enum Padding: String, Codable, Sendable {
        case valid, same
    }

    /// Which implementation runs. `.automatic` takes the direct kernels where there is one input channel (the
    /// im2col GEMM has K = 9 or 25 in the forward pass and N = 9 or 25 in the weight gradient, poor shapes): the
    /// forward pass and the weight gradient; its input gradient, and everything with more input channels, by im2col +
    /// sgemm (the direct loops of the input gradient measured slower than sgemm: 32 vs 17 ms per batch of 32 at
    /// 128 px, one thread).
    ///
    /// `.winograd` (`Conv2DWinograd.swift`) runs kernels 3 and 5 by F(m, r) tiles (`winogradTransform`); `.automatic`
    /// takes it where it measured faster than im2col + sgemm (`prefersWinograd`).
    public enum Kernel: Sendable {
        case automatic, gemm, direct, naive, winograd
    }

    /// The Winograd tiles for a kernel size (nil: none): the fastest measured (`WinogradTimingTests`, batch 32, 2
    /// threads: F(4, 3) beat F(2, 3) on every 3x3 layer of the CNN, F(4, 5) beat F(2, 5) and F(3, 5) on the authors'
    /// layers 2 and 3), with their fp32 error against im2col + sgemm on those layers 4e-6 to 8e-6 of the largest
    /// entry (F(2, 3): 1e-6; F(2, 5): 4e-6 to 1e-5).
    public static func winogradTransform(kernelSize: Int) -> WinogradTransform? {
        switch kernelSize {
        case 3: return .f4x3
        case 5: return .f4x5
        default: return nil
        }
    }

    /// This layer's Winograd tiles (`.winograd` is resolved only where there are some).
    var winogradTiles: WinogradTransform {
        guard let t = Conv2D.winogradTransform(kernelSize: kernelSize) else {
            preconditionFailure("Conv2D: no Winograd tiles for a \(kernelSize)x\(kernelSize) kernel")
        }
        return t
    }

    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let padding: Padding
    /// [O, C, K, K]
    public var weight: Tensor
    /// [O]
    public var bias: Tensor
    /// The Winograd-transformed weight (`prepareWinogradWeights`), with the weight it was computed from: the forward
    /// pass uses it while `weight` still equals that weight (compared on every call, so a changed weight is never
    /// paired with a stale transform), and transforms the weight itself otherwise.
    var preparedWinograd: PreparedWinogradWeights?

    /// U = G W G^T of one weight (`Conv2D.winogradWeights`) and that weight's scalars.
    struct PreparedWinogradWeights: Sendable {
        let weight: [Float]
        let u: [Float]
    }

    /// PyTorch's default initialisation: kaiming_uniform(a = sqrt(5)) for the weight, which is
    /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias; fan_in = C*K*K.
    /// Draws the weight, then the bias, from `generator`.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, padding: Padding,
                generator: inout SeededGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0,
                     "Conv2D: channels \(inputChannels)->\(outputChannels) and kernel \(kernelSize) must be positive")
        precondition(padding == .valid || kernelSize % 2 == 1, "Conv2D: .same padding needs an odd kernel, got \(kernelSize)")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.padding = padding
        let bound = 1 / Float(inputChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor(randomUniform: [outputChannels, inputChannels, kernelSize, kernelSize],
                        low: -bound, high: bound, generator: &generator)
        bias = Tensor(randomUniform: [outputChannels], low: -bound, high: bound, generator: &generator)
    }

    /// Zero padding on each side.
    public var paddingAmount: Int { padding == .same ? (kernelSize - 1) / 2 : 0 }

    /// Output height (or width) for an input height (or width).
    public func outputSize(_ inputSize: Int) -> Int { inputSize + 2 * paddingAmount - kernelSize + 1 }

    /// What backward needs: the input.
    public struct Cache: Sendable {
        public let input: Tensor
    }

    /// The geometry of one call, under the legend above.
    struct Geometry {
        let n, c, h, w, o, k, p, ho, wo: Int
        var ckk: Int { c * k * k }
        var inPlane: Int { c * h * w }
        var outPlane: Int { o * ho * wo }
    }

    func geometry(_ input: Tensor) -> Geometry {
        precondition(input.rank == 4 && input.shape[1] == inputChannels,
                     "Conv2D: input must be [N, \(inputChannels), H, W], got \(input.shape)")
        let ho = outputSize(input.shape[2]), wo = outputSize(input.shape[3])
        precondition(ho > 0 && wo > 0, "Conv2D: input \(input.shape) is smaller than the \(kernelSize)x\(kernelSize) kernel")
        return Geometry(n: input.shape[0], c: inputChannels, h: input.shape[2], w: input.shape[3],
                        o: outputChannels, k: kernelSize, p: paddingAmount, ho: ho, wo: wo)
    }

    /// The forward pass's kernel, or the backward pass's (`.automatic` stays for one input channel: direct weight
    /// gradient, sgemm input gradient).
    func resolved(_ kernel: Kernel, _ g: Geometry, backward: Bool = false) -> Kernel {
        if kernel == .automatic {
            if inputChannels == 1 { return backward ? .automatic : .direct }
            return Conv2D.prefersWinograd(g) ? .winograd : .gemm
        }
        precondition(kernel != .direct || inputChannels == 1, "Conv2D: the direct kernel needs one input channel, got \(inputChannels)")
        precondition(kernel != .winograd || Conv2D.winogradTransform(kernelSize: kernelSize) != nil,
                     "Conv2D: no Winograd tiles for a \(kernelSize)x\(kernelSize) kernel")
        return kernel
    }

    /// The kernel `.automatic` stands for in the CNN's evaluation-mode passes (`CNN.evaluated`, `evaluatedLogits`):
    /// the training passes' choice (`resolved`), and Winograd also from `evaluationWinogradMinimumPlane` where its tiles
    /// cover the output plane, since there the block's BatchNorm, ReLU and pooling fuse with the output transform
    /// (`BatchNormReLUPool.evaluatedWinograd`) and it pays at smaller planes than in training.
    func evaluationKernel(_ g: Geometry) -> Kernel {
        if inputChannels > 1, let t = Conv2D.winogradTransform(kernelSize: kernelSize),
           g.ho * g.wo >= Conv2D.evaluationWinogradMinimumPlane, Conv2D.winogradPoolsInTiles(g, t) {
            return .winograd
        }
        return resolved(.automatic, g)
    }

    /// The smallest output plane at which an evaluation pass runs a layer by Winograd where the tiles cover the plane
    /// (`evaluationKernel`): 16 x 16. Measured (`bench`, 3x3 CNN at 128 px, the 16 px layer by Winograd or im2col,
    /// everything else idle, three runs each): evaluation at 2 threads 1821-1869 -> 1862-1902 images/s, at 1 thread
    /// 989-1051 -> 1000-1114; training loses with it (344 against 356 images/s), so its threshold stays.
    static let evaluationWinogradMinimumPlane = 16 * 16

    /// Transforms the weight for Winograd's tiles once, for passes that run this layer many times with fixed weights
    /// (evaluation image by image, the precise statistics, the U-Net's denoising): the transform of the authors'
    /// CNN's 7,168 kernels per call was a third of its evaluation pass. A no-op for layers without Winograd tiles, and,
    /// given the input's side in pixels, for layers an evaluation pass runs otherwise at that size (`evaluationKernel`,
    /// which includes every layer training runs by Winograd); and for a layer already
    /// prepared for its current weight (a model prepared once keeps it through the copies each evaluation makes).
    public mutating func prepareWinogradWeights(inputSize: Int? = nil) {
        guard inputChannels > 1, let t = Conv2D.winogradTransform(kernelSize: kernelSize), preparedWinogradWeights == nil else { return }
        if let side = inputSize {
            let out = outputSize(side)
            let g = Geometry(n: 1, c: inputChannels, h: side, w: side, o: outputChannels, k: kernelSize, p: paddingAmount,
                             ho: out, wo: out)
            guard out > 0, evaluationKernel(g) == .winograd else { return }
        }
        let g = Geometry(n: 1, c: inputChannels, h: kernelSize, w: kernelSize, o: outputChannels, k: kernelSize, p: 0,
                         ho: 1, wo: 1)
        let u = withPointer(weight) { Conv2D.winogradWeights(g, $0, t) }
        preparedWinograd = PreparedWinogradWeights(weight: weight.scalars, u: u)
    }

    /// The prepared transform, where it was made from the current weight.
    var preparedWinogradWeights: [Float]? {
        guard let prepared = preparedWinograd, prepared.weight == weight.scalars else { return nil }
        return prepared.u
    }

    /// in: [N, C, H, W] -> out: [N, O, Ho, Wo].
    public func forward(_ input: Tensor, threads: Int = 1, kernel: Kernel = .automatic) -> (output: Tensor, cache: Cache) {
        let g = geometry(input)
        let output = makeTensor(shape: [g.n, g.o, g.ho, g.wo]) { out in
            withPointer(input) { inp in
                withPointer(weight) { wt in
                    withPointer(bias) { b in
                        switch resolved(kernel, g) {
                        case .naive: Conv2D.naiveForward(g, inp, wt, b, out)
                        case .direct: Conv2D.directForward(g, inp, wt, b, out, threads: threads)
                        case .winograd:
                            Conv2D.winogradForward(g, inp, wt, b, out, threads: threads, transform: winogradTiles,
                                                   prepared: preparedWinogradWeights)
                        default: Conv2D.gemmForward(g, inp, wt, b, out, threads: threads)
                        }
                    }
                }
            }
        }
        return (output, Cache(input: input))
    }

    /// dout: [N, O, Ho, Wo]. Adds into dweight [O, C, K, K] and dbias [O]; returns din [N, C, H, W].
    public func backward(dout: Tensor, cache: Cache, dweight: inout Tensor, dbias: inout Tensor,
                         threads: Int = 1, kernel: Kernel = .automatic) -> Tensor {
        let result = backward(dout: dout, cache: cache, parameters: true, input: true, threads: threads, kernel: kernel)
        addGradients(result, dweight: &dweight, dbias: &dbias)
        return result.din ?? Tensor(zeros: cache.input.shape)
    }

    /// As `backward`, without the input gradient (the first layer when training).
    public func accumulateParameterGradients(dout: Tensor, cache: Cache, dweight: inout Tensor, dbias: inout Tensor,
                                             threads: Int = 1, kernel: Kernel = .automatic) {
        let result = backward(dout: dout, cache: cache, parameters: true, input: false, threads: threads, kernel: kernel)
        addGradients(result, dweight: &dweight, dbias: &dbias)
    }

    /// As `accumulateParameterGradients(dout:...)` with dout [N, O, Ho, Wo] formed one image at a time, as the sums
    /// reach it: `doutOfImage(i, buffer)` writes image i's O*Ho*Wo values. The same sums in the same order (the
    /// same bytes), without the batch's dout in memory (the first layer's at 256 px and 32 images: 0.26 GB).
    /// `doutOfImage` is called from several threads at once, each time with its own buffer.
    public func accumulateParameterGradients(doutOfImage: (Int, UnsafeMutablePointer<Float>) -> Void, cache: Cache,
                                             dweight: inout Tensor, dbias: inout Tensor, threads: Int = 1, kernel: Kernel = .automatic) {
        let g = geometry(cache.input)
        let direct = kernel == .automatic && inputChannels == 1
        // Winograd's blocks span images: `.automatic` takes sgemm here rather than form the batch's dout.
        guard direct || kernel == .automatic || resolved(kernel, g, backward: true) == .gemm else {
            // The reference kernels read a whole dout: form it.
            let dout = makeTensor(shape: [g.n, g.o, g.ho, g.wo]) { d in for i in 0..<g.n { doutOfImage(i, d + i * g.outPlane) } }
            accumulateParameterGradients(dout: dout, cache: cache, dweight: &dweight, dbias: &dbias, threads: threads, kernel: kernel)
            return
        }
        let pieces = Swift.max(1, Swift.min(Parallel.reductionPieces, g.n))
        var result = BackwardResult(pieces: pieces, dweightParts: [Float](repeating: 0, count: pieces * g.o * g.ckk),
                                    dbiasParts: [Float](repeating: 0, count: pieces * g.o), din: nil)
        withPointer(cache.input) { inp in
            withPointer(weight) { wt in
                result.dweightParts.withUnsafeMutableBufferPointer { dwp in
                    result.dbiasParts.withUnsafeMutableBufferPointer { dbp in
                        let work = BackwardBuffers(dweight: dwp.baseAddress, dbias: dbp.baseAddress, din: nil)
                        withoutActuallyEscaping(doutOfImage) { form in
                            if direct {
                                Conv2D.directWeightGradient(g, inp, nil, work, pieces: pieces, threads: threads, doutOfImage: form)
                            } else {
                                Conv2D.gemmBackward(g, inp, wt, nil, work, pieces: pieces, threads: threads, doutOfImage: form)
                            }
                        }
                    }
                }
            }
        }
        addGradients(result, dweight: &dweight, dbias: &dbias)
    }

    /// As `backward`, without parameter gradients (the gradient with respect to the input only).
    public func inputGradient(dout: Tensor, cache: Cache, threads: Int = 1, kernel: Kernel = .automatic) -> Tensor {
        let result = backward(dout: dout, cache: cache, parameters: false, input: true, threads: threads, kernel: kernel)
        return result.din ?? Tensor(zeros: cache.input.shape)
    }

    private func addGradients(_ result: BackwardResult, dweight: inout Tensor, dbias: inout Tensor) {
        precondition(dweight.shape == weight.shape, "Conv2D.backward: dweight \(dweight.shape) vs weight \(weight.shape)")
        precondition(dbias.shape == bias.shape, "Conv2D.backward: dbias \(dbias.shape) vs bias \(bias.shape)")
        let size = weight.count, o = outputChannels
        withMutablePointer(&dweight) { dw in
            for piece in 0..<result.pieces { for i in 0..<size { dw[i] += result.dweightParts[piece * size + i] } }
        }
        withMutablePointer(&dbias) { db in
            for piece in 0..<result.pieces { for i in 0..<o { db[i] += result.dbiasParts[piece * o + i] } }
        }
    }

    /// Per-piece weight [pieces][O*CKK] and bias [pieces][O] sums (reduced in piece order by the
    /// caller), and the input gradient.
    private struct BackwardResult {
        var pieces: Int
        var dweightParts: [Float]
        var dbiasParts: [Float]
        var din: Tensor?
    }

    private func backward(dout: Tensor, cache: Cache, parameters: Bool, input: Bool, threads: Int, kernel: Kernel) -> BackwardResult {
        let g = geometry(cache.input)
        precondition(dout.shape == [g.n, g.o, g.ho, g.wo], "Conv2D.backward: dout \(dout.shape) should be \([g.n, g.o, g.ho, g.wo])")
        // A fixed split of the batch for the parameter-gradient sums: the same bytes at any thread count.
        let pieces = Swift.max(1, Swift.min(Parallel.reductionPieces, g.n))
        var result = BackwardResult(
            pieces: pieces,
            dweightParts: [Float](repeating: 0, count: parameters ? pieces * g.o * g.ckk : 0),
            dbiasParts: [Float](repeating: 0, count: parameters ? pieces * g.o : 0),
            din: nil)
        var din = Tensor(zeros: input ? cache.input.shape : [0])
        withPointer(cache.input) { inp in
            withPointer(weight) { wt in
                withPointer(dout) { dy in
                    result.dweightParts.withUnsafeMutableBufferPointer { dwp in
                        result.dbiasParts.withUnsafeMutableBufferPointer { dbp in
                            withMutablePointer(&din) { dx in
                                let work = BackwardBuffers(
                                    dweight: parameters ? dwp.baseAddress : nil, dbias: parameters ? dbp.baseAddress : nil,
                                    din: input ? dx : nil)
                                switch resolved(kernel, g, backward: true) {
                                case .naive: Conv2D.naiveBackward(g, inp, wt, dy, work)
                                case .winograd:
                                    Conv2D.winogradBackward(g, inp, wt, dy, work, pieces: pieces, threads: threads,
                                                            transform: winogradTiles)
                                case .direct: Conv2D.directBackward(g, inp, wt, dy, work, pieces: pieces, threads: threads)
                                case .automatic where inputChannels == 1:
                                    // The weight gradient direct, the input gradient by sgemm (see `Kernel`).
                                    Conv2D.directWeightGradient(g, inp, dy, work, pieces: pieces, threads: threads)
                                    if work.din != nil {
                                        let inputOnly = BackwardBuffers(dweight: nil, dbias: nil, din: work.din)
                                        Conv2D.gemmBackward(g, inp, wt, dy, inputOnly, pieces: pieces, threads: threads)
                                    }
                                default: Conv2D.gemmBackward(g, inp, wt, dy, work, pieces: pieces, threads: threads)
                                }
                            }
                        }
                    }
                }
            }
        }
        if input { result.din = din }
        return result
    }

    /// Destinations of a backward pass: per-piece weight [pieces][O*CKK] and bias [pieces][O]
    /// accumulators (nil: not wanted), and the zero-initialised input gradient (nil: not wanted).
    struct BackwardBuffers {
        let dweight: UnsafeMutablePointer<Float>?
        let dbias: UnsafeMutablePointer<Float>?
        let din: UnsafeMutablePointer<Float>?
    }
}
