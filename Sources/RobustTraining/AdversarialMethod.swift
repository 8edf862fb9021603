import NN
import Tensor

/// FGSM adversarial training with a uniform random start, "Fast is better than free" (Wong, Rice and
/// Kolter 2020, Algorithm 3). Per mini-batch (x, y), on the [0, 1] pixel scale:
///
///     delta ~ U(-eps, eps)^{B x 1 x S x S},  delta <- clip(delta, -x, 1 - x)     (x + delta inside [0, 1])
///     g = grad_delta L(f(x + delta), y)
///     delta <- clip(delta + alpha sign(g), -eps, eps),  delta <- clip(delta, -x, 1 - x)
///     train on x_adv = x + delta = clip(x + delta, 0, 1)
///
/// Defaults (PAPER.md: the paper's values are lost): eps = 8/255, alpha = 1.25 eps = 10/255.
///
/// The attack's forward pass runs the CNN in training mode (batch statistics), as Wong et al.'s code
/// does (`model.train()`), but it does NOT update BatchNorm's running statistics: it runs on a copy of
/// the model whose statistics are discarded (their code updates them on the attack pass too, so each
/// step moves the running averages twice; here only the real training step does).
public struct AdversarialMethod: TrainingMethod {
    public var settings: AdversarialSettings
    /// The share of epsilon and alpha of the current epoch (below 1 during `epsilonWarmupEpochs`).
    public private(set) var radiusScale: Float = 1

    public init(settings: AdversarialSettings = AdversarialSettings()) {
        self.settings = settings
        radiusScale = settings.radiusScale(epoch: 0)
    }

    public mutating func beginEpoch(_ epoch: Int, state: inout TrainingState, context: MethodContext) throws -> MethodEvent? {
        radiusScale = settings.radiusScale(epoch: epoch)
        guard radiusScale < 1 else { return nil }
        return MethodEvent(note: String(format: "AT: radius warm-up, epsilon %.2f/255", 255 * settings.epsilon * radiusScale))
    }

    public func trainingBatch(_ images: Tensor, labels: [Int], model: CNN, generator: inout SeededGenerator) -> Tensor {
        FGSM.adversarialImages(images, labels: labels, model: model, epsilon: settings.epsilon * radiusScale,
                               alpha: settings.alpha * radiusScale, mode: .training, generator: &generator)
    }

    /// FGSM (the training attack) and PGD-`pgdSteps` robust accuracy of `model` (evaluation mode) on the
    /// clean validation images at the training epsilon; the random starts come from the epoch's own stream.
    public func robustAccuracy(of model: CNN, on validation: LabelledImages, epoch: Int, seed: UInt64) -> RobustAccuracy? {
        guard validation.count > 0 else { return nil }
        var generator = SeededGenerator(seed: seed, purpose: .robustAccuracyAttack, index: epoch)
        var fgsmCorrect = 0, pgdCorrect = 0
        var start = 0
        while start < validation.count {
            let end = Swift.min(validation.count, start + 32)
            let images = validation.images.items(start..<end)
            let labels = Array(validation.labels[start..<end])
            let fgsm = FGSM.adversarialImages(images, labels: labels, model: model, epsilon: settings.epsilon, alpha: settings.alpha,
                                              mode: .evaluation, generator: &generator)
            let pgd = PGD.adversarialImages(images, labels: labels, model: model, epsilon: settings.epsilon,
                                            steps: settings.pgdSteps, generator: &generator)
            for (p, y) in zip(model.evaluated(fgsm).logits.argmaxRows(), labels) where p == y { fgsmCorrect += 1 }
            for (p, y) in zip(model.evaluated(pgd).logits.argmaxRows(), labels) where p == y { pgdCorrect += 1 }
            start = end
        }
        let n = Double(validation.count)
        return RobustAccuracy(epsilon: Double(settings.epsilon), fgsm: Double(fgsmCorrect) / n, pgd: Double(pgdCorrect) / n,
                              pgdSteps: settings.pgdSteps)
    }
}

/// Projected gradient descent on the loss, L-infinity ball (Madry et al. 2018), with a uniform random start:
///     delta ~ U(-eps, eps);  repeat `steps` times: delta <- clip(delta + step sign(grad_delta L), -eps, eps)
/// with step = 2.5 eps / steps, x + delta kept inside [0, 1]. The model runs in evaluation mode and is not changed.
public enum PGD {
    public static func adversarialImages(_ images: Tensor, labels: [Int], model: CNN, epsilon: Float, steps: Int,
                                         generator: inout SeededGenerator) -> Tensor {
        precondition(steps >= 1 && epsilon >= 0, "PGD: steps \(steps) and epsilon \(epsilon)")
        let step = 2.5 * epsilon / Float(steps)
        var delta = Tensor(randomUniform: images.shape, low: -epsilon, high: epsilon, generator: &generator)
        FGSM.clampToImageRange(&delta, images: images)
        for _ in 0..<steps {
            let gradient = FGSM.inputGradient(of: images + delta, labels: labels, model: model, mode: .evaluation)
            delta.withUnsafeMutableBufferPointer { d in
                gradient.withUnsafeBufferPointer { g in
                    for j in d.indices {
                        let move = g[j] > 0 ? step : (g[j] < 0 ? -step : 0)
                        d[j] = min(max(d[j] + move, -epsilon), epsilon)
                    }
                }
            }
            FGSM.clampToImageRange(&delta, images: images)
        }
        return (images + delta).clipped(to: 0, 1)
    }
}

/// The FGSM-with-random-start perturbation on its own: what AT trains on, and what Figure 2 shows.
public enum FGSM {
    /// The adversarial version of `images` for `model` (see `AdversarialMethod`).
    /// images: [B, C, S, S] in [0, 1]; labels: B classes. `mode` is BatchNorm's mode for the attack pass:
    /// `.training` (batch statistics, as during AT) or `.evaluation` (running statistics, to attack a
    /// trained model image by image). The model is never changed. Draws B*C*S*S uniforms from `generator`.
    public static func adversarialImages(_ images: Tensor, labels: [Int], model: CNN, epsilon: Float, alpha: Float,
                                         mode: Mode = .training, generator: inout SeededGenerator) -> Tensor {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "FGSM: \(labels.count) labels for images \(images.shape)")
        precondition(epsilon >= 0 && alpha >= 0, "FGSM: epsilon \(epsilon) and alpha \(alpha) must be non-negative")
        // Uniform start, kept inside the image range.
        var delta = Tensor(randomUniform: images.shape, low: -epsilon, high: epsilon, generator: &generator)
        clampToImageRange(&delta, images: images)
        let gradient = inputGradient(of: images + delta, labels: labels, model: model, mode: mode)
        delta.withUnsafeMutableBufferPointer { d in
            gradient.withUnsafeBufferPointer { g in
                for j in d.indices {
                    let step = g[j] > 0 ? alpha : (g[j] < 0 ? -alpha : 0)
                    d[j] = min(max(d[j] + step, -epsilon), epsilon)
                }
            }
        }
        clampToImageRange(&delta, images: images)
        return (images + delta).clipped(to: 0, 1)  // the clip only absorbs float rounding
    }

    /// grad_x of the mean cross-entropy of `model` at `images`: [B, C, S, S]. In training mode the
    /// forward pass uses batch statistics on a throwaway copy of the model (running statistics unchanged).
    public static func inputGradient(of images: Tensor, labels: [Int], model: CNN, mode: Mode) -> Tensor {
        let features: Tensor, cache: CNN.Cache
        switch mode {
        case .training:
            var scratch = model  // copy-on-write: only the BatchNorm statistics get copied
            (features, cache) = scratch.features(images, mode: .training)
        case .evaluation:
            (features, cache) = model.evaluatedFeatures(images)
        }
        let logits = model.classifier.forward(features).output
        let dlogits = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels).dlogits
        // dL/dh = dL/dz W  (z = h W^T + b), then back through the convolution blocks.
        let dfeatures = dlogits.matmul(model.classifier.weight)
        return model.backwardFromFeatures(dfeatures: dfeatures, cache: cache)
    }

    /// delta <- clip(delta, -x, 1 - x), so that x + delta stays in [0, 1].
    static func clampToImageRange(_ delta: inout Tensor, images: Tensor) {
        delta.withUnsafeMutableBufferPointer { d in
            images.withUnsafeBufferPointer { x in
                for j in d.indices { d[j] = min(max(d[j], -x[j]), 1 - x[j]) }
            }
        }
    }
}
