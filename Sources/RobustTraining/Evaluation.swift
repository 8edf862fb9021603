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
    /// The learning rate of the epoch's last step.
    public var learningRate: Double?
    /// With `--bn-statistics clean-validation`: the test sets with their clean share classified under BatchNorm
    /// statistics recomputed over the clean validation images (test-time adaptation), beside `test`.
    public var adaptedTest: [TestEvaluation]?
    /// Adversarial training: accuracy on the validation set under FGSM and PGD at the training epsilon.
    public var robust: RobustAccuracy?
    /// Warnings about this epoch (catastrophic overfitting, every image called one class, a fallback the method took
    /// at its start: `MethodEvent.warnings`).
    public var warnings: [String]?
    /// With `evaluateRecipeVariants`: the other weight/statistics combinations, evaluated on the same images.
    public var variants: [RecipeVariantEvaluation]?

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

/// Robust accuracy on the clean validation set (Wong, Rice and Kolter 2020, section 6): the share of images
/// still classified correctly after an L-infinity attack of radius `epsilon` on the [0, 1] scale.
public struct RobustAccuracy: Codable, Sendable, Equatable {
    public var epsilon: Double
    /// FGSM with a uniform random start at the training step size.
    public var fgsm: Double
    /// PGD with `pgdSteps` steps of 2.5 eps / steps and a uniform random start (Madry et al. 2018).
    public var pgd: Double
    public var pgdSteps: Int

    public init(epsilon: Double, fgsm: Double, pgd: Double, pgdSteps: Int) {
        self.epsilon = epsilon
        self.fgsm = fgsm
        self.pgd = pgd
        self.pgdSteps = pgdSteps
    }
}

/// One weight/statistics combination evaluated beside the configured one (`TrainingConfiguration.evaluateRecipeVariants`).
public struct RecipeVariantEvaluation: Codable, Sendable, Equatable {
    /// "last+running", "last+precise", "ema+running", "ema+precise", "ema+clean-validation", ...
    public var name: String
    public var validation: Evaluation
    public var test: [TestEvaluation]

    public init(name: String, validation: Evaluation, test: [TestEvaluation]) {
        self.name = name
        self.validation = validation
        self.test = test
    }
}
