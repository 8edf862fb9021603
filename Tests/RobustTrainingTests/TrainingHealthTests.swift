import Foundation
import Testing
import NN
import RobustTraining
import Tensor

/// Robust accuracy of adversarial training, catastrophic overfitting, one-class collapse, --at-early-stop.
@Suite struct TrainingHealthTests {
    static func metrics(epoch: Int, clean: Double, pgd: Double?, confusion: [[Int]] = [[5, 0, 0], [0, 5, 0], [0, 0, 5]]) -> EpochMetrics {
        var evaluation = Evaluation(predictions: [], labels: [], losses: [], classes: 3)
        evaluation.accuracy = clean
        evaluation.confusion = confusion
        var m = EpochMetrics(epoch: epoch, trainLoss: 1, trainAccuracy: clean, validation: evaluation, test: [], seconds: 1, imagesPerSecond: 1)
        m.robust = pgd.map { RobustAccuracy(epsilon: 8.0 / 255, fgsm: $0, pgd: $0, pgdSteps: 10) }
        return m
    }

    @Test func catastrophicOverfittingIsARobustCollapseWhileCleanAccuracyHolds() {
        var configuration = toyConfiguration()
        configuration.method = .at
        let history = [Self.metrics(epoch: 1, clean: 0.60, pgd: 0.40), Self.metrics(epoch: 2, clean: 0.70, pgd: 0.45)]
        // PGD 45% -> 10% while clean 70% -> 75%: catastrophic overfitting, naming the fix.
        let collapse = TrainingHealth.check(Self.metrics(epoch: 3, clean: 0.75, pgd: 0.10), history: history, configuration: configuration)
        #expect(collapse.catastrophicOverfitting)
        #expect(collapse.warnings.first?.contains("--at-alpha") == true && collapse.warnings.first?.contains("epoch 2") == true)
        // A drop of 15 points is within the rule (20); a robust drop with clean accuracy falling too is under-training or divergence.
        #expect(!TrainingHealth.check(Self.metrics(epoch: 3, clean: 0.75, pgd: 0.30), history: history, configuration: configuration).catastrophicOverfitting)
        #expect(!TrainingHealth.check(Self.metrics(epoch: 3, clean: 0.40, pgd: 0.10), history: history, configuration: configuration).catastrophicOverfitting)
        // Without robust figures (other methods) there is nothing to check.
        #expect(TrainingHealth.check(Self.metrics(epoch: 3, clean: 0.75, pgd: nil), history: history, configuration: configuration).warnings.isEmpty)
    }

    @Test func everyImageInOneClassIsReported() {
        var configuration = toyConfiguration()
        configuration.method = .at
        let collapsed = Self.metrics(epoch: 4, clean: 0.33, pgd: 0.33, confusion: [[0, 5, 0], [0, 5, 0], [0, 5, 0]])
        let report = TrainingHealth.check(collapsed, history: [], configuration: configuration)
        #expect(report.warnings.count == 1)
        #expect(report.warnings[0].contains("called glioma") && report.warnings[0].contains("--at-epsilon"))
        // Partial: meningioma (class 0) never predicted, all called pituitary (the quick preset's AT on Gaussian noise).
        let partial = Self.metrics(epoch: 5, clean: 0.67, pgd: 0.6, confusion: [[0, 0, 5], [0, 5, 0], [0, 0, 5]])
        let partialReport = TrainingHealth.check(partial, history: [], configuration: configuration)
        #expect(partialReport.warnings.count == 1 && partialReport.warnings[0].hasPrefix("no validation image is called meningioma at epoch 5"))
        // A healthy confusion raises nothing.
        #expect(TrainingHealth.check(Self.metrics(epoch: 5, clean: 0.8, pgd: 0.6), history: [], configuration: configuration).warnings.isEmpty)
    }

    /// Reports a scripted robust accuracy per epoch: high, then collapsed.
    struct ScriptedRobustness: TrainingMethod {
        let pgd: [Double]
        func robustAccuracy(of model: CNN, on validation: LabelledImages, epoch: Int, seed: UInt64) -> RobustAccuracy? {
            RobustAccuracy(epsilon: 8.0 / 255, fgsm: pgd[epoch], pgd: pgd[epoch], pgdSteps: 10)
        }
    }

    @Test func earlyStopKeepsTheLastGoodEpochsWeights() throws {
        var configuration = toyConfiguration(epochs: 5)
        configuration.method = .at
        configuration.adversarial.earlyStop = true
        configuration.recipe = .paper
        let data = toyTrainingData()
        let trainer = Trainer(configuration: configuration)
        var state = try trainer.initialState(data: data)
        var method = ScriptedRobustness(pgd: [0.5, 0.9, 0.8, 0.1, 0.1])
        var weightsAfterEpoch: [Int: Tensor] = [:]
        try trainer.run(data: data, method: &method, state: &state) { state, _ in
            weightsAfterEpoch[state.history.count] = state.model.classifier.weight
        }
        // The toy's clean validation accuracy stays high, so epoch 4's collapse (90% -> 10%) is catastrophic overfitting.
        #expect(state.history.count == 4)
        #expect(state.earlyStop == EarlyStop(detectedAtEpoch: 4, keptEpoch: 2))
        #expect(state.history[3].warnings?.contains { $0.contains("catastrophic overfitting") } == true)
        #expect(state.model.classifier.weight == weightsAfterEpoch[2])
    }

    @Test func robustAccuracyIsRecordedForAdversarialTrainingAndBoundedByCleanAccuracy() throws {
        var configuration = toyConfiguration(epochs: 2)
        configuration.method = .at
        let data = toyTrainingData()
        let trainer = Trainer(configuration: configuration)
        var state = try trainer.initialState(data: data)
        var method = AdversarialMethod(settings: configuration.adversarial)
        try trainer.run(data: data, method: &method, state: &state)
        for m in state.history {
            let robust = try #require(m.robust)
            #expect(robust.pgdSteps == 10 && abs(robust.epsilon - 8.0 / 255) < 1e-7)
            // An attack can only lose correctly classified images... up to images it happens to fix; on 15 images
            // allow one such flip.
            #expect(robust.pgd <= m.validation.accuracy + 1.0 / 15 + 1e-9)
            #expect(robust.fgsm <= m.validation.accuracy + 1.0 / 15 + 1e-9)
        }
    }

    @Test func epsilonAndStepOutsideTheUnitRangeAreRefused() {
        var configuration = toyConfiguration()
        configuration.method = .at
        configuration.adversarial.epsilon = 2
        #expect(throws: TrainingError.self) { try configuration.validate() }
        configuration.adversarial.epsilon = 8.0 / 255
        configuration.adversarial.alpha = 1.5
        #expect(throws: TrainingError.self) { try configuration.validate() }
        configuration.adversarial.alpha = 1
        #expect(throws: Never.self) { try configuration.validate() }
    }

    /// A wrong AT or ISP value is refused whichever method runs (a naive run had trained with
    /// --at-epsilon -8/255 and recorded it in config.json).
    @Test func methodSettingsAreCheckedForEveryMethod() {
        for method in TrainingMethodKind.allCases {
            var configuration = toyConfiguration()
            configuration.method = method
            if method == .isr || method == .isp { configuration.epochs = max(configuration.epochs, configuration.switchEpoch + 1) }
            #expect(throws: Never.self, "\(method) with default settings") { try configuration.validate() }
            var attack = configuration
            attack.adversarial.epsilon = -8.0 / 255
            #expect(throws: TrainingError.self, "\(method) with a negative AT radius") { try attack.validate() }
            var perturbation = configuration
            perturbation.isp.topKRatio = 1.5
            #expect(throws: TrainingError.self, "\(method) with ISP's top-k ratio 1.5") { try perturbation.validate() }
        }
    }
}
