import Tensor

/// Gradients of the U-Net's trainable parameters, block by block (conv weight/bias, BatchNorm
/// weight/bias), then the output convolution.
public struct UNetGradients: Sendable, Equatable {
    /// A convolution's and its BatchNorm's gradients (the CNN's block type).
    public typealias Block = CNNGradients.Block

    public var blocks: [Block]
    public var output: LayerGradients

    /// All zeros, shaped like `model`'s parameters.
    public init(zerosLike model: UNet) {
        blocks = model.blocks.map { Block(zerosLike: $0.convolution, $0.batchNorm) }
        output = LayerGradients(zerosLike: model.output)
    }
}

extension UNet: Optimizable {
    /// Visits conv weight, conv bias, BN weight, BN bias per block, then the output conv's weight and bias.
    public mutating func updateParameters(with gradients: UNetGradients,
                                          _ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) {
        precondition(gradients.blocks.count == blocks.count, "UNet.updateParameters: \(gradients.blocks.count) gradient blocks for \(blocks.count) blocks")
        let index = CNN.Block.updateParameters(of: &blocks, with: gradients.blocks, update)
        update(index, &output.weight, gradients.output.weight)
        update(index + 1, &output.bias, gradients.output.bias)
    }
}

extension UNet {
    /// Parameters and BatchNorm buffers by name: `blocks.{b}.conv.weight|bias`,
    /// `blocks.{b}.bn.weight|bias|running_mean|running_var`, `output.weight|bias`.
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (b, block) in blocks.enumerated() {
            out.append(("blocks.\(b).conv.weight", block.convolution.weight))
            out.append(("blocks.\(b).conv.bias", block.convolution.bias))
            out.append(("blocks.\(b).bn.weight", block.batchNorm.weight))
            out.append(("blocks.\(b).bn.bias", block.batchNorm.bias))
            out.append(("blocks.\(b).bn.running_mean", block.batchNorm.runningMean))
            out.append(("blocks.\(b).bn.running_var", block.batchNorm.runningVar))
        }
        out.append(("output.weight", output.weight))
        out.append(("output.bias", output.bias))
        return out
    }

    /// Replaces every tensor of `namedTensors()` by the one of the same name in `tensors` (extra names
    /// are ignored). Nothing changes when an error is thrown.
    public mutating func load(namedTensors tensors: [String: Tensor]) throws(CNNLoadError) {
        for (name, tensor) in namedTensors() {
            guard let found = tensors[name] else { throw .missing(name: name) }
            if found.shape != tensor.shape { throw .shapeMismatch(name: name, expected: tensor.shape, found: found.shape) }
        }
        func take(_ name: String) -> Tensor { tensors[name] ?? Tensor(zeros: [0]) }
        for b in blocks.indices {
            blocks[b].convolution.weight = take("blocks.\(b).conv.weight")
            blocks[b].convolution.bias = take("blocks.\(b).conv.bias")
            blocks[b].batchNorm.weight = take("blocks.\(b).bn.weight")
            blocks[b].batchNorm.bias = take("blocks.\(b).bn.bias")
            blocks[b].batchNorm.runningMean = take("blocks.\(b).bn.running_mean")
            blocks[b].batchNorm.runningVar = take("blocks.\(b).bn.running_var")
        }
        output.weight = take("output.weight")
        output.bias = take("output.bias")
    }

    /// Evaluation-mode output for many images: images: [N, C, H, W] -> [N, outputChannels, H, W], the same numbers as
    /// `evaluated(images)` to the bit (in evaluation mode every layer works per image or per plane). `batchSize` images
    /// at a time (then `progress(done, N)`), dealt to `threads` workers that run each of their images through the whole
    /// network single-threaded, depth first: one image's activations (a few MiB at 128 px) stay in the worker's cache
    /// instead of a batch's going through memory layer by layer.
    public func evaluatedInBatches(_ images: Tensor, batchSize: Int = 8, progress: ((Int, Int) -> Void)? = nil) -> Tensor {
        let n = images.shape[0], imageSize = configuration.outputChannels * images.shape[2] * images.shape[3]
        precondition(images.rank == 4 && images.shape[1] == configuration.inputChannels,
                     "UNet.evaluatedInBatches: images must be [N, \(configuration.inputChannels), H, W], got \(images.shape)")
        var worker = self
        worker.threads = 1
        worker.prepareWinogradWeights()
        var scalars = [Float](repeating: 0, count: n * imageSize)
        BLAS.setThreads(1)
        var start = 0
        while start < n {
            let end = Swift.min(n, start + Swift.max(1, batchSize))
            scalars.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                let out = UncheckedSendable(base)
                Parallel.forEachChunk(count: end - start, chunks: threads) { _, share in
                    for i in share {
                        let image = start + i
                        let y = worker.evaluatedLayers(images.items(image..<(image + 1)))
                        withPointer(y) { p in (out.value + image * imageSize).update(from: p, count: imageSize) }
                    }
                }
            }
            progress?(end, n)
            start = end
        }
        return Tensor(shape: [n, configuration.outputChannels, images.shape[2], images.shape[3]], scalars: scalars)
    }
}
