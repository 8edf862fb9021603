import Tensor

/// Fully connected layer, PyTorch's `nn.Linear`: y = x W^T + b.
/// x: [N, in], weight W: [out, in], bias b: [out], y: [N, out].
public struct Linear: Sendable {
    public let inputCount: Int
    public let outputCount: Int
    /// [out, in]
    public var weight: Tensor
    /// [out]
    public var bias: Tensor

    /// PyTorch's default initialisation: weight and bias U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform
    /// with a = sqrt(5) for the weight), drawn weight first, then bias.
    public init(inputCount: Int, outputCount: Int, generator: inout SeededGenerator) {
        precondition(inputCount > 0 && outputCount > 0, "Linear: sizes \(inputCount) -> \(outputCount) must be positive")
        self.inputCount = inputCount
        self.outputCount = outputCount
        let bound = 1 / Float(inputCount).squareRoot()
        weight = Tensor(randomUniform: [outputCount, inputCount], low: -bound, high: bound, generator: &generator)
        bias = Tensor(randomUniform: [outputCount], low: -bound, high: bound, generator: &generator)
    }

    public struct Cache: Sendable {
        public let input: Tensor
    }

    /// x: [N, in] -> y: [N, out].
    public func forward(_ input: Tensor) -> (output: Tensor, cache: Cache) {
        precondition(input.rank == 2 && input.shape[1] == inputCount, "Linear: input must be [N, \(inputCount)], got \(input.shape)")
        var y = input.matmul(weight, transposeOther: true)
        let n = input.shape[0]
        for i in 0..<n { for j in 0..<outputCount { y.scalars[i * outputCount + j] += bias.scalars[j] } }
        return (y, Cache(input: input))
    }

    /// dout: [N, out]. dweight += dout^T x, dbias += sum_n dout; returns din = dout W: [N, in].
    public func backward(dout: Tensor, cache: Cache, dweight: inout Tensor, dbias: inout Tensor) -> Tensor {
        precondition(dweight.shape == weight.shape && dbias.shape == bias.shape,
                     "Linear.backward: dweight \(dweight.shape), dbias \(dbias.shape) vs \(weight.shape), \(bias.shape)")
        dweight.add(dout.matmul(cache.input, transposeSelf: true))
        for i in 0..<dout.shape[0] { for j in 0..<outputCount { dbias.scalars[j] += dout.scalars[i * outputCount + j] } }
        return inputGradient(dout: dout)
    }

    /// din = dout W: [N, in] (no parameter gradients).
    public func inputGradient(dout: Tensor) -> Tensor {
        precondition(dout.rank == 2 && dout.shape[1] == outputCount, "Linear.backward: dout must be [N, \(outputCount)], got \(dout.shape)")
        return dout.matmul(weight)
    }
}

/// [N, C, H, W] <-> [N, C*H*W] (PyTorch's `nn.Flatten`, row-major, so no data moves).
public enum Flatten {
    public static func forward(_ input: Tensor) -> (output: Tensor, inputShape: [Int]) {
        precondition(input.rank >= 2, "Flatten: input must be [N, ...], got \(input.shape)")
        return (input.reshaped([input.shape[0], input.itemCount]), input.shape)
    }

    public static func backward(dout: Tensor, inputShape: [Int]) -> Tensor {
        dout.reshaped(inputShape)
    }
}
