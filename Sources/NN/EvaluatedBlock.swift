import CKernels
import Tensor

/// The CNN's blocks in evaluation mode, each by the fused kernel that fits its convolution.
extension BatchNormReLUPool {
    /// One block in evaluation mode, `forward(convolution.forward(x, kernel: evaluationKernel).output, mode:
    /// .evaluation).output` to the bit (as `CNN.evaluated` runs it): a convolution with one input channel by
    /// `evaluatedDirect`, one that runs by Winograd with whole tiles by `evaluatedWinograd`, any other unfused.
    /// x: [N, C, H, W] -> [N, O, Ho/2, Wo/2].
    public static func evaluatedBlock(_ x: Tensor, convolution: Conv2D, batchNorm: BatchNorm2D, threads: Int = 1,
                                      isa: KernelISA = .active) -> Tensor {
        if convolution.inputChannels == 1 {
            return evaluatedDirect(x, convolution: convolution, batchNorm: batchNorm, threads: threads, isa: isa)
        }
        let g = convolution.geometry(x)
        let kernel = convolution.evaluationKernel(g)
        if kernel == .winograd, Conv2D.winogradPoolsInTiles(g, convolution.winogradTiles) {
            return evaluatedWinograd(x, convolution: convolution, batchNorm: batchNorm, threads: threads, isa: isa)
        }
        let convolved = convolution.forward(x, threads: threads, kernel: kernel).output
        return forward(convolved, batchNorm: batchNorm, mode: .evaluation, threads: threads, isa: isa).output
    }

    /// The evaluation-mode block of a convolution run by Winograd whose output tiles cover its plane exactly
    /// (`Conv2D.winogradPoolsInTiles`): `forward(convolution.forward(x, kernel: .winograd).output, mode:
    /// .evaluation).output` to the bit, by the C kernel `winograd_tiles_out_pool`, which pools each output tile while
    /// it is in registers (the convolution's output never reaches memory; the separate BatchNorm-ReLU-pool pass over
    /// it is gone). Uses the convolution's prepared transformed weight where it has one. x: [N, C, H, W] ->
    /// [N, O, Ho/2, Wo/2].
    public static func evaluatedWinograd(_ x: Tensor, convolution: Conv2D, batchNorm: BatchNorm2D, threads: Int = 1,
                                         isa: KernelISA = .active) -> Tensor {
        let g = convolution.geometry(x), t = convolution.winogradTiles
        precondition(batchNorm.channels == g.o && Conv2D.winogradPoolsInTiles(g, t),
                     "BatchNormReLUPool.evaluatedWinograd: \(g.o) channels in whole \(t.outputTile)-tiles, got \(batchNorm.channels) BatchNorm channels and a \(g.ho)x\(g.wo) output")
        let (scale, shift) = batchNorm.evaluationScaleAndShift
        return makeTensor(shape: [g.n, g.o, g.ho / 2, g.wo / 2]) { out in
            withPointer(x) { inp in
                withPointer(convolution.weight) { wt in
                    withPointer(convolution.bias) { b in
                        Conv2D.winogradForwardPooled(g, inp, wt, b, scale: scale, shift: shift, out, threads: threads, transform: t,
                                                     prepared: convolution.preparedWinogradWeights, isa: isa)
                    }
                }
            }
        }
    }
}
