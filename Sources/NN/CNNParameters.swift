import Tensor

/// A layer's weight and bias pair (gradients, or parameters when naming them).
public struct LayerGradients: Sendable, Equatable {
    public var weight: Tensor
    public var bias: Tensor

    public init(weight: Tensor, bias: Tensor) {
        self.weight = weight
        self.bias = bias
    }
}

/// Gradients of the CNN's trainable parameters, with the model's structure and names.
public struct CNNGradients: Sendable, Equatable {
    public struct Block: Sendable, Equatable {
        public var convolution: LayerGradients
        public var batchNorm: LayerGradients
    }

    public var blocks: [Block]
    public var classifier: LayerGradients

    /// All zeros, shaped like `model`'s parameters.
    public init(zerosLike model: CNN) {
        blocks = model.blocks.map { Block(zerosLike: $0.convolution, $0.batchNorm) }
        classifier = LayerGradients(weight: Tensor(zeros: model.classifier.weight.shape),
                                    bias: Tensor(zeros: model.classifier.bias.shape))
    }

    /// (name, gradient) in PyTorch's naming and order (trainable parameters only).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        blocks.enumerated().flatMap { b, block in
            CNN.trainableNames(block: b, convolution: block.convolution, batchNorm: block.batchNorm)
        } + CNN.classifierNames(classifier)
    }
}

/// A parameter file that does not match the network.
public enum CNNLoadError: Error, Equatable, CustomStringConvertible {
    case missing(name: String)
    case unexpected(name: String)
    case duplicate(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .missing(name): return "CNN parameters: tensor '\(name)' is missing; the file is not from this network configuration."
        case let .unexpected(name): return "CNN parameters: tensor '\(name)' does not belong to this network configuration."
        case let .duplicate(name): return "CNN parameters: tensor '\(name)' appears more than once."
        case let .shapeMismatch(name, expected, found):
            return "CNN parameters: tensor '\(name)' has shape \(found), the network needs \(expected); check imageSize, channels and kernelSize."
        }
    }
}

extension CNN {
    /// Trainable parameters and buffers in PyTorch's `state_dict` order for `nn.Sequential` `features`
    /// plus `classifier` (block b: features.{4b}.weight/bias, features.{4b+1}.weight/bias/running_mean/running_var),
    /// without `num_batches_tracked` (see `namedCounters()`).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        blocks.enumerated().flatMap { b, block in
            CNN.trainableNames(block: b, convolution: LayerGradients(weight: block.convolution.weight, bias: block.convolution.bias),
                               batchNorm: LayerGradients(weight: block.batchNorm.weight, bias: block.batchNorm.bias))
                + [("features.\(4 * b + 1).running_mean", block.batchNorm.runningMean),
                   ("features.\(4 * b + 1).running_var", block.batchNorm.runningVar)]
        } + CNN.classifierNames(LayerGradients(weight: classifier.weight, bias: classifier.bias))
    }

    /// Block b's trainable tensors in PyTorch's names: conv `features.{4b}`, BatchNorm `features.{4b+1}`.
    static func trainableNames(block b: Int, convolution: LayerGradients, batchNorm: LayerGradients) -> [(name: String, tensor: Tensor)] {
        [("features.\(4 * b).weight", convolution.weight), ("features.\(4 * b).bias", convolution.bias),
         ("features.\(4 * b + 1).weight", batchNorm.weight), ("features.\(4 * b + 1).bias", batchNorm.bias)]
    }

    static func classifierNames(_ classifier: LayerGradients) -> [(name: String, tensor: Tensor)] {
        [("classifier.weight", classifier.weight), ("classifier.bias", classifier.bias)]
    }

    /// BatchNorm's `features.{4b+1}.num_batches_tracked` counters (Int64 in PyTorch).
    public func namedCounters() -> [(name: String, value: Int64)] {
        blocks.enumerated().map { b, block in ("features.\(4 * b + 1).num_batches_tracked", block.batchNorm.numBatchesTracked) }
    }

    /// Replaces every parameter and buffer by the tensor of the same name. Every name of
    /// `namedTensors()` must be present once with its shape, and nothing else; counters, when given,
    /// must be names of `namedCounters()` (absent counters are left as they are). Nothing changes
    /// when an error is thrown.
    public mutating func load(namedTensors: [(name: String, tensor: Tensor)],
                              namedCounters: [(name: String, value: Int64)] = []) throws(CNNLoadError) {
        var given: [String: Tensor] = [:]
        for (name, tensor) in namedTensors {
            if given[name] != nil { throw .duplicate(name: name) }
            given[name] = tensor
        }
        let expected = self.namedTensors()
        let expectedNames = Set(expected.map(\.name))
        if let stray = namedTensors.first(where: { !expectedNames.contains($0.name) }) { throw .unexpected(name: stray.name) }
        for (name, tensor) in expected {
            guard let found = given[name] else { throw .missing(name: name) }
            if found.shape != tensor.shape { throw .shapeMismatch(name: name, expected: tensor.shape, found: found.shape) }
        }
        let counterNames = Set(self.namedCounters().map(\.name))
        var counters: [String: Int64] = [:]
        for (name, value) in namedCounters {
            guard counterNames.contains(name) else { throw .unexpected(name: name) }
            if counters[name] != nil { throw .duplicate(name: name) }
            counters[name] = value
        }
        func take(_ name: String) -> Tensor { given[name] ?? Tensor(zeros: [0]) }
        for b in blocks.indices {
            blocks[b].convolution.weight = take("features.\(4 * b).weight")
            blocks[b].convolution.bias = take("features.\(4 * b).bias")
            blocks[b].batchNorm.weight = take("features.\(4 * b + 1).weight")
            blocks[b].batchNorm.bias = take("features.\(4 * b + 1).bias")
            blocks[b].batchNorm.runningMean = take("features.\(4 * b + 1).running_mean")
            blocks[b].batchNorm.runningVar = take("features.\(4 * b + 1).running_var")
            if let count = counters["features.\(4 * b + 1).num_batches_tracked"] { blocks[b].batchNorm.numBatchesTracked = count }
        }
        classifier.weight = take("classifier.weight")
        classifier.bias = take("classifier.bias")
    }
}

extension CNN: Optimizable {
    /// Visits conv weight, conv bias, BN weight, BN bias per block, then the classifier's weight and
    /// bias (the order of `CNNGradients.namedTensors()`); BatchNorm's running statistics are buffers, not visited.
    public mutating func updateParameters(with gradients: CNNGradients,
                                          _ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) {
        precondition(gradients.blocks.count == blocks.count, "CNN.updateParameters: \(gradients.blocks.count) gradient blocks for \(blocks.count) blocks")
        let index = CNN.Block.updateParameters(of: &blocks, with: gradients.blocks, update)
        update(index, &classifier.weight, gradients.classifier.weight)
        update(index + 1, &classifier.bias, gradients.classifier.bias)
    }
}

extension CNN.Block {
    /// Visits conv weight, conv bias, BN weight, BN bias of every block (indices 0, 1, 2, ... in that order),
    /// as the CNN and the U-Net both do; returns the next index.
    static func updateParameters(of blocks: inout [CNN.Block], with gradients: [CNNGradients.Block],
                                 _ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void) -> Int {
        var index = 0
        for b in blocks.indices {
            update(index, &blocks[b].convolution.weight, gradients[b].convolution.weight)
            update(index + 1, &blocks[b].convolution.bias, gradients[b].convolution.bias)
            update(index + 2, &blocks[b].batchNorm.weight, gradients[b].batchNorm.weight)
            update(index + 3, &blocks[b].batchNorm.bias, gradients[b].batchNorm.bias)
            index += 4
        }
        return index
    }
}

extension LayerGradients {
    /// Zero gradients for a convolution's weight and bias.
    init(zerosLike convolution: Conv2D) {
        self.init(weight: Tensor(zeros: convolution.weight.shape), bias: Tensor(zeros: convolution.bias.shape))
    }

    /// Zero gradients for a BatchNorm's weight and bias.
    init(zerosLike batchNorm: BatchNorm2D) {
        self.init(weight: Tensor(zeros: [batchNorm.channels]), bias: Tensor(zeros: [batchNorm.channels]))
    }

    static let empty = LayerGradients(weight: Tensor(zeros: [0]), bias: Tensor(zeros: [0]))
}

extension CNNGradients.Block {
    init(zerosLike convolution: Conv2D, _ batchNorm: BatchNorm2D) {
        self.init(convolution: LayerGradients(zerosLike: convolution), batchNorm: LayerGradients(zerosLike: batchNorm))
    }
}
