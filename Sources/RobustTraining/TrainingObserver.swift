/// Receives progress from a training run: the command-line tool draws a progress bar from it, the
/// experiment runner writes `metrics.jsonl` and checkpoints. Every method has a default that does nothing.
public protocol TrainingObserver: AnyObject {
    /// After each mini-batch: running mean loss and accuracy of the epoch so far.
    func batchFinished(epoch: Int, epochs: Int, batch: Int, batches: Int, runningLoss: Double,
                       runningAccuracy: Double, imagesPerSecond: Double)
    /// After each epoch's evaluation.
    func epochFinished(_ metrics: EpochMetrics, epochs: Int)
    /// A phase of the method that is not a training batch (influence scores, perturbations, denoising).
    func phase(_ description: String, done: Int, of total: Int)
    /// A one-line message for the user.
    func message(_ text: String)
}

extension TrainingObserver {
    public func batchFinished(epoch: Int, epochs: Int, batch: Int, batches: Int, runningLoss: Double,
                              runningAccuracy: Double, imagesPerSecond: Double) {}
    public func epochFinished(_ metrics: EpochMetrics, epochs: Int) {}
    public func phase(_ description: String, done: Int, of total: Int) {}
    public func message(_ text: String) {}
}

/// An observer that ignores everything.
public final class SilentObserver: TrainingObserver {
    public init() {}
}
