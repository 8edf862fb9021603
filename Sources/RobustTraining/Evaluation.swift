/// Classification metrics of one model on one labelled set: accuracy, per-class recall and precision,
/// macro-F1 and the confusion matrix (rows = true class, columns = predicted class).
public struct Evaluation: Codable, Sendable, Equatable {
    public var count: Int
    public var meanLoss: Double
    public var accuracy: Double
    /// confusion[trueClass][predictedClass]
    public var confusion: [[Int]]

    public init(predictions: [Int], labels: [Int], losses: [Double], classes: Int) {
        precondition(predictions.count == labels.count && losses.count == labels.count,
                     "Evaluation: \(predictions.count) predictions, \(labels.count) labels, \(losses.count) losses")
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, y) in zip(predictions, labels) {
            precondition((0..<classes).contains(p) && (0..<classes).contains(y), "Evaluation: class out of range (\(p), \(y))")
            matrix[y][p] += 1
        }
        count = labels.count
        confusion = matrix
        meanLoss = losses.isEmpty ? 0 : losses.reduce(0, +) / Double(losses.count)
        let correct = (0..<classes).reduce(0) { $0 + matrix[$1][$1] }
        accuracy = labels.isEmpty ? 0 : Double(correct) / Double(labels.count)
    }

    /// Recall of each class (true positives / members); 0 for a class with no members.
    public var recall: [Double] {
        confusion.indices.map { c in
            let members = confusion[c].reduce(0, +)
            return members == 0 ? 0 : Double(confusion[c][c]) / Double(members)
        }
    }

    /// Precision of each class (true positives / predicted as that class); 0 when never predicted.
    public var precision: [Double] {
        confusion.indices.map { c in
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
        }
    }

    /// Unweighted mean over classes of F1 = 2 P R / (P + R) (0 where P + R = 0).
    public var macroF1: Double {
        let p = precision, r = recall
        let f1 = zip(p, r).map { $0 + $1 == 0 ? 0 : 2 * $0 * $1 / ($0 + $1) }
        return f1.isEmpty ? 0 : f1.reduce(0, +) / Double(f1.count)
    }
}

/// What one epoch of training produced.
public struct EpochMetrics: Codable, Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validation: Evaluation
    /// The test set evaluated at each test-noise fraction rho, in the order configured.
    public var test: [TestEvaluation]
    public var seconds: Double
    public var imagesPerSecond: Double
    /// A note when the method did something at this epoch (ISR reweighting, ISP perturbation, ...).
    public var event: String?

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validation: Evaluation,
                test: [TestEvaluation], seconds: Double, imagesPerSecond: Double, event: String? = nil) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validation = validation
        self.test = test
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.event = event
    }
}

/// The test set evaluated with a fraction `rho` of its images noisy.
public struct TestEvaluation: Codable, Sendable, Equatable {
    public var rho: Double
    public var evaluation: Evaluation

    public init(rho: Double, evaluation: Evaluation) {
        self.rho = rho
        self.evaluation = evaluation
    }
}
