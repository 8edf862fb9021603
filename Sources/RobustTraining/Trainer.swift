import Foundation
import NN
import Tensor

/// The one training loop every method runs through: seeded shuffling and flips, mini-batch Adam steps
/// on the (optionally weighted) cross-entropy, the method's hooks, an evaluation on the clean validation
/// set and on the test set at each rho after every epoch, and an atomic checkpoint after every epoch so
/// that an interrupted run resumes where it stopped and ends with the same numbers.
public struct Trainer {
    public let configuration: TrainingConfiguration

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// A fresh state: the model initialised from the seed, Adam at step 0, the noisy training images.
    public func initialState(data: TrainingData) throws -> TrainingState {
        try configuration.validate()
        var generator = SeededGenerator(seed: configuration.seed, purpose: .modelInitialisation)
        let model: CNN
        do {
            model = try CNN(configuration: configuration.model, generator: &generator, threads: configuration.threads)
        } catch {
            throw TrainingError.invalidConfiguration("\(error)")
        }
        return TrainingState(model: model, optimizer: Adam(learningRate: configuration.learningRate),
                             trainImages: data.train.images, sampleWeights: nil, completedEpochs: 0,
                             history: [], trainSeconds: 0, averagedModel: keepsAverage ? model : nil)
    }

    /// Whether the run keeps an exponential moving average of the weights.
    var keepsAverage: Bool { configuration.recipe.weightAverage == .ema || configuration.evaluateRecipeVariants }

    /// Trains to `configuration.epochs`, starting from `state` (fresh or restored from a checkpoint).
    /// After each epoch `checkpoint` (when given) is called with the state to save.
    public func run<Method: TrainingMethod>(
        data: TrainingData, method: inout Method, state: inout TrainingState,
        observer: any TrainingObserver = SilentObserver(),
        checkpoint: ((TrainingState, Method) throws -> Void)? = nil
    ) throws {
        try check(data)
        let context = MethodContext(configuration: configuration, data: data, observer: observer)
        if state.completedEpochs == 0 && state.history.isEmpty {
            let started = Date()
            if let note = try method.prepare(&state, context: context) { observer.message(note) }
            state.trainSeconds += Date().timeIntervalSince(started)
        }
        while state.completedEpochs < configuration.epochs {
            let epoch = state.completedEpochs
            state.lastEvaluationModels = nil
            let started = Date()
            let event = try method.beginEpoch(epoch, state: &state, context: context)
            for warning in event?.warnings ?? [] { observer.message("warning: " + warning) }
            let (loss, accuracy, images) = try trainOneEpoch(epoch, data: data, method: method, state: &state, observer: observer)
            let seconds = Date().timeIntervalSince(started)
            state.trainSeconds += seconds
            let models = evaluationModels(state: state, data: data, method: method)
            var metrics = EpochMetrics(
                epoch: epoch + 1, trainLoss: loss, trainAccuracy: accuracy,
                validation: evaluate(models.model, on: data.validation, method: method),
                test: [], seconds: seconds, imagesPerSecond: Double(images) / max(seconds, 1e-9), event: event?.note)
            (metrics.test, metrics.adaptedTest) = Self.testEvaluations(models.model, adapted: models.cleanAdapted, on: data.testSets,
                                                                       images: method.evaluationImages(data.testSets.images))
            metrics.learningRate = Double(state.optimizer.learningRate)
            if configuration.evaluateRecipeVariants {
                metrics.variants = variantEvaluations(state: state, data: data, method: method)
            }
            metrics.robust = method.robustAccuracy(of: models.model, on: data.validation, epoch: epoch, seed: configuration.seed)
            let health = TrainingHealth.check(metrics, history: state.history, configuration: configuration)
            let warnings = (event?.warnings ?? []) + health.warnings
            metrics.warnings = warnings.isEmpty ? nil : warnings
            for warning in health.warnings { observer.message("warning: " + warning) }
            let bestPGD = state.bestRobust.flatMap { state.history[$0.epoch - 1].robust?.pgd } ?? -1
            if let robust = metrics.robust, robust.pgd > bestPGD {
                state.bestRobust = (epoch + 1, models.model)
            }
            // A model whose evaluation losses are not finite has diverged even when every training batch's
            // loss was finite (the epoch's last step can overflow the weights): stop before saving garbage.
            guard ([metrics.validation.meanLoss] + metrics.test.map(\.evaluation.meanLoss)).allSatisfy(\.isFinite) else {
                throw TrainingError.diverged(epoch: epoch + 1, batch: (data.train.count + configuration.batchSize - 1) / configuration.batchSize,
                                             hint: "The model's outputs on the validation or test images are not finite after this epoch. Lower the learning rate (--lr, now \(configuration.learningRate)) or check the data for extreme values.")
            }
            state.history.append(metrics)
            state.completedEpochs += 1
            state.lastEvaluationModels = models
            if health.catastrophicOverfitting && configuration.method == .at && configuration.adversarial.earlyStop,
               let kept = state.bestRobust {
                // Keep the last good epoch's evaluated weights (their statistics are recomputed the same way).
                state.model = kept.model
                if state.averagedModel != nil { state.averagedModel = kept.model }
                state.lastEvaluationModels = nil
                state.earlyStop = EarlyStop(detectedAtEpoch: epoch + 1, keptEpoch: kept.epoch)
                observer.message("--at-early-stop: stopped after epoch \(epoch + 1); the weights of epoch \(kept.epoch) are kept")
                state.completedEpochs = configuration.epochs
            }
            try checkpoint?(state, method)
            observer.epochFinished(metrics, epochs: configuration.epochs)
        }
    }

    /// The models an epoch is evaluated (and a run saved) with: the averaged weights when the recipe keeps an
    /// average, else the last weights; with precise statistics recomputed over the training images as trained on
    /// (`TrainingRecipe.preciseStatisticsImages` of them at most) unless the recipe keeps the running ones; and with
    /// `clean-validation`, the same weights with statistics over the clean validation images (`cleanAdapted`).
    public func evaluationModels<Method: TrainingMethod>(state: TrainingState, data: TrainingData, method: Method)
        -> (model: CNN, cleanAdapted: CNN?) {
        let recipe = configuration.recipe
        let weights = recipe.weightAverage == .ema ? (state.averagedModel ?? state.model) : state.model
        switch recipe.batchNormStatistics {
        case .running:
            return (weights, nil)
        case .precise:
            return (withPreciseStatistics(weights, state: state), nil)
        case .cleanValidation:
            return (withPreciseStatistics(weights, state: state),
                    weights.withPreciseStatistics(over: method.evaluationImages(data.validation.images)))
        }
    }

    /// `weights` with precise statistics over the training images as trained on (a seeded subset when capped).
    func withPreciseStatistics(_ weights: CNN, state: TrainingState) -> CNN {
        weights.withPreciseStatistics(over: preciseStatisticsImages(state.trainImages))
    }

    /// The images precise statistics are recomputed over: all, or a fixed seeded subset of
    /// `preciseStatisticsImages` (the same every epoch), in their original order.
    public func preciseStatisticsImages(_ images: Tensor) -> Tensor {
        let n = images.shape[0], cap = configuration.recipe.preciseStatisticsImages
        guard cap > 0 && n > cap else { return images }
        var generator = SeededGenerator(seed: configuration.seed, purpose: .preciseStatisticsSubset)
        return images.gathered(items: generator.permutation(n).prefix(cap).sorted())
    }

    /// The weight/statistics combinations other than the configured one (which `test` and `adaptedTest` already
    /// hold) on the validation and test sets: last and EMA weights with running and precise statistics.
    func variantEvaluations<Method: TrainingMethod>(state: TrainingState, data: TrainingData, method: Method) -> [RecipeVariantEvaluation] {
        let recipe = configuration.recipe
        let configuredWeights = recipe.weightAverage == .ema ? "ema" : "last"
        let configuredStatistics = recipe.batchNormStatistics == .running ? "running" : "precise"
        var candidates: [(String, CNN)] = [("last", state.model)]
        if let average = state.averagedModel { candidates.append(("ema", average)) }
        var variants: [RecipeVariantEvaluation] = []
        for (name, weights) in candidates {
            for statistics in ["running", "precise"] where (name, statistics) != (configuredWeights, configuredStatistics) {
                let model = statistics == "running" ? weights : withPreciseStatistics(weights, state: state)
                variants.append(RecipeVariantEvaluation(name: "\(name)+\(statistics)",
                                                        validation: evaluate(model, on: data.validation, method: method),
                                                        test: evaluateTests(model, on: data.testSets, method: method)))
            }
        }
        return variants
    }

    private func check(_ data: TrainingData) throws {
        guard data.train.count > 0 else { throw TrainingError.emptySet("the training set is empty: check the data path and the folds") }
        guard data.validation.count > 0 else { throw TrainingError.emptySet("the validation set is empty: the training folds need at least one image per class to spare") }
        let s = configuration.model.imageSize
        guard Array(data.train.images.shape[1...]) == [configuration.model.inputChannels, s, s] else {
            throw TrainingError.invalidConfiguration("training images are \(data.train.images.shape) but the model expects \(s)x\(s): load the data at --image-size \(s)")
        }
    }

    /// One pass over the training images in a seeded order. Returns the mean loss, accuracy and image count.
    func trainOneEpoch<Method: TrainingMethod>(
        _ epoch: Int, data: TrainingData, method: Method, state: inout TrainingState, observer: any TrainingObserver
    ) throws -> (loss: Double, accuracy: Double, images: Int) {
        var shuffle = SeededGenerator(seed: configuration.seed, purpose: .epochShuffle, index: epoch)
        var flipGenerator = SeededGenerator(seed: configuration.seed, purpose: .epochFlips, index: epoch)
        var methodGenerator = SeededGenerator(seed: configuration.seed, purpose: .adversarialStart, index: epoch)
        let n = data.train.count
        let order = shuffle.permutation(n)
        let batchSize = configuration.batchSize
        let batches = (n + batchSize - 1) / batchSize
        let totalSteps = batches * configuration.epochs
        var lossSum = 0.0, correct = 0, seen = 0
        let started = Date()
        for b in 0..<batches {
            let indices = Array(order[(b * batchSize)..<min(n, (b + 1) * batchSize)])
            var images = state.trainImages.gathered(items: indices)
            if configuration.horizontalFlip {
                let flips = indices.map { _ in flipGenerator.nextUniform() < 0.5 }
                Augmentation.flipHorizontally(&images, where: flips)
            }
            let labels = indices.map { data.train.labels[$0] }
            images = method.trainingBatch(images, labels: labels, model: state.model, generator: &methodGenerator)
            let (logits, cache) = state.model.forward(images, mode: .training)
            let weights = state.sampleWeights.map { w in indices.map { w[$0] } }
            let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, weights: weights)
            guard result.loss.isFinite else {
                throw TrainingError.diverged(epoch: epoch + 1, batch: b + 1,
                                             hint: "Lower the learning rate (--lr, now \(configuration.learningRate)) or check the data for extreme values.")
            }
            let gradients = state.model.parameterGradients(dlogits: result.dlogits, cache: cache)
            state.optimizer.learningRate = configuration.recipe.learningRate(
                base: configuration.learningRate, step: state.optimizer.step, totalSteps: totalSteps, stepsPerEpoch: batches,
                switchEpoch: configuration.switchEpoch)
            state.optimizer.update(&state.model, gradients: gradients)
            if state.averagedModel != nil {
                state.averagedModel?.moveAverage(toward: state.model, decay: Float(configuration.recipe.emaDecay(afterSteps: state.optimizer.step)))
            }
            let predictions = logits.argmaxRows()
            for (p, y) in zip(predictions, labels) where p == y { correct += 1 }
            for l in result.losses { lossSum += Double(l) }
            seen += indices.count
            observer.batchFinished(epoch: epoch + 1, epochs: configuration.epochs, batch: b + 1, batches: batches,
                                   runningLoss: lossSum / Double(seen), runningAccuracy: Double(correct) / Double(seen),
                                   imagesPerSecond: Double(seen) / max(Date().timeIntervalSince(started), 1e-9))
        }
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)), seen)
    }

    /// The model (evaluation mode) on a labelled set, as the method classifies it.
    public func evaluate<Method: TrainingMethod>(_ model: CNN, on set: LabelledImages, method: Method) -> Evaluation {
        Self.evaluate(model, on: LabelledImages(images: method.evaluationImages(set.images), labels: set.labels, ids: set.ids))
    }

    /// The model on the test set at every rho, as the method classifies it: each distinct image once.
    public func evaluateTests<Method: TrainingMethod>(_ model: CNN, on sets: TestSets, method: Method) -> [TestEvaluation] {
        Self.testEvaluations(model, adapted: nil, on: sets, images: method.evaluationImages(sets.images)).test
    }

    /// The test sets at every rho as `model` classifies them, and with `adapted` (test-time-adapted statistics) the
    /// same sets with their clean images classified by `adapted` instead. `images`: the sets' distinct images as the
    /// method classifies them (`method.evaluationImages(sets.images)`). Each distinct image goes through `model`
    /// once, and each clean one through `adapted` once.
    public static func testEvaluations(_ model: CNN, adapted: CNN?, on sets: TestSets, images: Tensor)
        -> (test: [TestEvaluation], adaptedTest: [TestEvaluation]?) {
        let classes = model.configuration.classes
        func evaluations(_ logits: Tensor) -> [TestEvaluation] {
            zip(sets.sets, sets.evaluations(logits: logits, classes: classes)).map { TestEvaluation(rho: $0.rho, evaluation: $1) }
        }
        let logits = Self.logits(model, images: images)
        guard let adapted else { return (evaluations(logits), nil) }
        let cleanRows = sets.cleanRows.indices.filter { sets.cleanRows[$0] }
        var spliced = logits
        if !cleanRows.isEmpty {
            let part = Self.logits(adapted, images: images.gathered(items: cleanRows)).scalars
            for (k, row) in cleanRows.enumerated() {
                for j in 0..<classes { spliced.scalars[row * classes + j] = part[k * classes + j] }
            }
        }
        return (evaluations(logits), evaluations(spliced))
    }

    /// The model (evaluation mode) on a labelled set, batched.
    public static func evaluate(_ model: CNN, on set: LabelledImages, batchSize: Int = 64) -> Evaluation {
        evaluation(logits: logits(model, images: set.images, batchSize: batchSize), labels: set.labels,
                   classes: model.configuration.classes)
    }

    /// The model's logits [N, classes] on images [N, C, S, S] (evaluation mode), in batches; the Winograd layers'
    /// transformed weights made once for all of them (`CNN.prepareWinogradWeights`).
    public static func logits(_ model: CNN, images: Tensor, batchSize: Int = 64) -> Tensor {
        var model = model
        model.prepareWinogradWeights()
        let n = images.shape[0], classes = model.configuration.classes
        var scalars: [Float] = []
        scalars.reserveCapacity(n * classes)
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            scalars += model.evaluatedLogits(images.items(start..<end)).scalars
            start = end
        }
        return Tensor(shape: [n, classes], scalars: scalars)
    }

    /// Accuracy, losses and confusion from logits [N, classes] and the true labels.
    public static func evaluation(logits: Tensor, labels: [Int], classes: Int) -> Evaluation {
        guard !labels.isEmpty else { return Evaluation(predictions: [], labels: [], losses: [], classes: classes) }
        let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
        return Evaluation(predictions: logits.argmaxRows(), labels: labels, losses: result.losses.map(Double.init), classes: classes)
    }
}
