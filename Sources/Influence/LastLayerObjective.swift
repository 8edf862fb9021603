import Tensor

/// Features of a set of samples with their class labels: the input of the last layer.
///
/// features: [n, D] (h(x) from the CNN, BatchNorm in eval mode); labels: [n], each in 0..<C.
public struct LabelledFeatures: Sendable {
    public let features: Tensor
    public let labels: [Int]

    public init(features: Tensor, labels: [Int]) {
        precondition(features.rank == 2 && features.shape[0] == labels.count,
                     "LabelledFeatures: features \(features.shape) and \(labels.count) labels do not match")
        self.features = features
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var featureCount: Int { features.shape[1] }
}

/// The only contact between the influence methods and a model: a training objective over the
/// last layer's parameters theta, with the other layers frozen into a feature map.
///
/// The training objective is the (optionally weighted) mean loss R(theta) = (1/n) sum_i w_i L(z_i, theta)
/// (w_i = 1 by default). Every vector is a flattened theta: [parameterCount], Double.
/// Hessians here are undamped; solvers add lambda * I.
public protocol LastLayerObjective: Sendable {
    /// Number of entries of theta (P).
    var parameterCount: Int { get }
    /// Number of training samples (n).
    var trainingCount: Int { get }
    /// The current theta: [P].
    var parameters: [Double] { get }

    /// R(theta): the mean training loss.
    func meanTrainingLoss() -> Double
    /// grad_theta R: [P].
    func meanTrainingGradient() -> [Double]
    /// Mean loss of another set (e.g. validation) at the current theta.
    func meanLoss(on set: LabelledFeatures) -> Double
    /// grad_theta of the mean loss of another set: [P].
    func meanGradient(on set: LabelledFeatures) -> [Double]

    /// Per-sample loss gradients g_i = grad_theta L(z_i) of training samples `samples` as rows: [count, P].
    /// (Dense; for tests and small problems.)
    func perSampleGradients(samples: [Int]) -> [[Double]]
    /// s . g_i for every training sample i: [n] (unweighted by w_i). The batched core of Eq. 7.
    func perSampleGradientDots(_ s: [Double]) -> [Double]

    /// (1/|B|) sum_{i in B} w_i Hess L(z_i) v over `samples` B, or the full training Hessian
    /// (1/n) sum_i w_i Hess L(z_i) v when `samples` is nil; without forming the Hessian. v: [P] -> [P].
    func hessianVectorProduct(_ v: [Double], samples: [Int]?) -> [Double]
    /// The full training Hessian, dense: [P, P] row-major, its sums split over `threads` (OpenBLAS
    /// single-threaded inside each piece).
    func hessian(threads: Int) -> [Double]
    /// For each training sample, an upper bound on the largest eigenvalue of w_i Hess L(z_i): [n].
    /// (A mini-batch Hessian's top eigenvalue is at most the largest of these; LiSSA's scale must
    /// exceed the eigenvalues it meets.)
    func perSampleCurvatureBounds() -> [Double]
}

extension LastLayerObjective {
    /// The full training Hessian on one thread.
    public func hessian() -> [Double] { hessian(threads: 1) }
    /// Full-training-set Hessian-vector product.
    public func hessianVectorProduct(_ v: [Double]) -> [Double] { hessianVectorProduct(v, samples: nil) }
}
