import CKernels
import Foundation
import Tensor

/// A model whose trainable parameters an optimizer can update: it visits each parameter, in a
/// fixed order with a stable index, together with its gradient.
public protocol Optimizable {
    associatedtype Gradients
    mutating func updateParameters(with gradients: Gradients,
                                   _ update: (_ index: Int, _ parameter: inout Tensor, _ gradient: Tensor) -> Void)
}

/// Adam (Kingma and Ba 2015) with `torch.optim.Adam`'s semantics (no AMSGrad). At step t:
///     g = grad + weightDecay * theta                      (L2 penalty, as torch's weight_decay)
///     m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2
///     theta -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// Paper: lr 0.01 for the CNN.
public struct Adam: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Steps taken so far (t after the last update).
    public private(set) var step: Int = 0
    /// First and second moments, by parameter index.
    public private(set) var firstMoments: [Tensor] = []
    public private(set) var secondMoments: [Tensor] = []

    public init(learningRate: Float = 0.01, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public mutating func update<Model: Optimizable>(_ model: inout Model, gradients: Model.Gradients) {
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - Foundation.pow(Double(beta1), t)))
        let correction2 = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        let (b1, b2, eps, decay) = (beta1, beta2, epsilon, weightDecay)
        let kernels = KernelISA.active.kernels
        var first = firstMoments, second = secondMoments
        firstMoments = []
        secondMoments = []
        model.updateParameters(with: gradients) { index, parameter, gradient in
            precondition(parameter.shape == gradient.shape, "Adam: parameter \(index) \(parameter.shape) vs gradient \(gradient.shape)")
            if index == first.count {
                first.append(Tensor(zeros: parameter.shape))
                second.append(Tensor(zeros: parameter.shape))
            }
            precondition(index < first.count && first[index].shape == parameter.shape,
                         "Adam: parameter \(index) \(parameter.shape) does not match the optimizer's state")
            let n = parameter.count
            withPointer(gradient) { g in
                withMutablePointer(&parameter) { p in
                    withMutablePointer(&first[index]) { m in
                        withMutablePointer(&second[index]) { v in
                            kernels.adam(p, g, m, v, n, b1, b2, stepSize, correction2, eps, decay)
                        }
                    }
                }
            }
        }
        firstMoments = first
        secondMoments = second
    }
}

extension Adam {
    /// One step over n parameters, the formula above one element at a time in Swift: the reference the C kernel
    /// (`adam` of every `KernelISA` path) is tested against, to the bit.
    static func referenceStep(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                              _ v: UnsafeMutablePointer<Float>, _ n: Int, beta1 b1: Float, beta2 b2: Float, stepSize: Float,
                              correction2: Float, epsilon eps: Float, weightDecay decay: Float) {
        for j in 0..<n {
            let gj = g[j] + decay * p[j]
            m[j] = b1 * m[j] + (1 - b1) * gj
            v[j] = b2 * v[j] + (1 - b2) * gj * gj
            p[j] -= stepSize * m[j] / (v[j].squareRoot() / correction2 + eps)
        }
    }

    /// Restores the state saved from `step`, `firstMoments` and `secondMoments` (for resuming a run).
    public mutating func restore(step: Int, firstMoments: [Tensor], secondMoments: [Tensor]) {
        precondition(firstMoments.count == secondMoments.count && zip(firstMoments, secondMoments).allSatisfy { $0.shape == $1.shape },
                     "Adam.restore: first and second moments do not match")
        self.step = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }
}

/// Stochastic gradient descent with `torch.optim.SGD`'s semantics (dampening 0, no Nesterov):
///     g = grad + weightDecay * theta;  b = g at the first step, else momentum * b + g;  theta -= lr * b
/// (b = g when momentum is 0).
public struct SGD: Sendable {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public private(set) var velocities: [Tensor] = []

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public mutating func update<Model: Optimizable>(_ model: inout Model, gradients: Model.Gradients) {
        let (lr, mu, decay) = (learningRate, momentum, weightDecay)
        var buffers = velocities
        velocities = []
        model.updateParameters(with: gradients) { index, parameter, gradient in
            precondition(parameter.shape == gradient.shape, "SGD: parameter \(index) \(parameter.shape) vs gradient \(gradient.shape)")
            var g = gradient
            if decay != 0 { g.add(parameter, scaledBy: decay) }
            if mu != 0 {
                if index == buffers.count {
                    buffers.append(g)
                } else {
                    precondition(index < buffers.count && buffers[index].shape == g.shape, "SGD: parameter \(index) does not match the optimizer's state")
                    buffers[index].scale(by: mu)
                    buffers[index].add(g)
                }
                g = buffers[index]
            }
            parameter.add(g, scaledBy: -lr)
        }
        velocities = buffers
    }
}
