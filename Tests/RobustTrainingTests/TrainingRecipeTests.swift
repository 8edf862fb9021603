import Foundation
import Testing
import NN
import RobustTraining
import Tensor

/// A naive run of `configuration` on `data` (default: the toy problem), trained to its end.
func trainedNaiveRun(_ configuration: TrainingConfiguration, data: TrainingData = toyTrainingData()) throws
    -> (trainer: Trainer, data: TrainingData, state: TrainingState, method: NaiveMethod) {
    let trainer = Trainer(configuration: configuration)
    var state = try trainer.initialState(data: data)
    var method = NaiveMethod()
    try trainer.run(data: data, method: &method, state: &state)
    return (trainer, data, state, method)
}

/// The recipe's parts against closed forms, in the trainer, and the paper recipe kept exact.
@Suite struct TrainingRecipeTests {
    @Test func cosineScheduleMatchesItsClosedForm() {
        let cosine = TrainingRecipe(learningRateSchedule: .cosine, weightAverage: .none, batchNormStatistics: .running)
        let total = 100
        for step in [0, 1, 25, 50, 75, 99] {
            let expected = 0.01 * 0.5 * (1 + cos(Double.pi * Double(step) / Double(total)))
            #expect(abs(Double(cosine.learningRate(base: 0.01, step: step, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7)) - expected) <= 1e-7 * 0.01)
        }
        // Warm-up: 2 epochs of 10 steps, linear to the base rate, then cosine over the remaining 80 steps.
        var warm = cosine
        warm.warmupEpochs = 2
        #expect(abs(warm.learningRate(base: 0.01, step: 0, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7) - 0.0005) < 1e-9)
        #expect(abs(warm.learningRate(base: 0.01, step: 19, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7) - 0.01) < 1e-9)
        #expect(abs(warm.learningRate(base: 0.01, step: 20, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7) - 0.01) < 1e-9)
        let mid = 0.01 * 0.5 * (1 + cos(Double.pi * 40 / 80))
        #expect(abs(Double(warm.learningRate(base: 0.01, step: 60, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7)) - mid) < 1e-9)
        for step in [0, 33, 99] { #expect(TrainingRecipe.paper.learningRate(base: 0.01, step: step, totalSteps: total, stepsPerEpoch: 10, switchEpoch: 7) == 0.01) }
    }

    @Test func schedulesThatChangeAtTheSwitchEpochMatchTheirClosedForms() {
        // 10 epochs of 10 steps, T = 7: S = 70 steps before the switch, 30 after.
        func c(_ i: Int, _ n: Int) -> Double { 0.01 * 0.5 * (1 + cos(Double.pi * Double(i) / Double(n))) }
        let restart = TrainingRecipe(learningRateSchedule: .cosineRestart, weightAverage: .none, batchNormStatistics: .running)
        // constant-then-cosine decays over the last 30% here: from step 70 too.
        let stableDecay = TrainingRecipe(learningRateSchedule: .constantThenCosine, weightAverage: .none, decayFraction: 0.3,
                                         batchNormStatistics: .running)
        for step in [0, 1, 35, 69, 70, 71, 85, 99] {
            let r = Double(restart.learningRate(base: 0.01, step: step, totalSteps: 100, stepsPerEpoch: 10, switchEpoch: 7))
            let d = Double(stableDecay.learningRate(base: 0.01, step: step, totalSteps: 100, stepsPerEpoch: 10, switchEpoch: 7))
            // Float rounding of a value below 0.01: half an ulp of 0.01 in Float is about 4.7e-10.
            #expect(abs(r - (step < 70 ? c(step, 70) : c(step - 70, 30))) <= 1e-9)
            #expect(abs(d - (step < 70 ? 0.01 : c(step - 70, 30))) <= 1e-9)
        }
        // The restart returns to the base rate at T; the first cycle nearly reaches 0 just before it.
        #expect(restart.learningRate(base: 0.01, step: 70, totalSteps: 100, stepsPerEpoch: 10, switchEpoch: 7) == 0.01)
        #expect(restart.learningRate(base: 0.01, step: 69, totalSteps: 100, stepsPerEpoch: 10, switchEpoch: 7) < 1e-5)
        // With a warm-up, the first cycle starts after it.
        var warm = restart
        warm.warmupEpochs = 2
        #expect(abs(Double(warm.learningRate(base: 0.01, step: 45, totalSteps: 100, stepsPerEpoch: 10, switchEpoch: 7)) - c(25, 50)) <= 1e-9)
        // T must lie after the warm-up and before the last epoch.
        #expect(throws: TrainingError.self) { try warm.validate(epochs: 10, switchEpoch: 2) }
        // constant-then-cosine needs no T (naive runs have none inside short runs), but a share in (0, 1] and a
        // warm-up that ends before the decay.
        #expect(throws: Never.self) { try stableDecay.validate(epochs: 10, switchEpoch: 15) }
        var bad = stableDecay
        bad.decayFraction = 0
        #expect(throws: TrainingError.self) { try bad.validate(epochs: 10, switchEpoch: 7) }
        bad = stableDecay
        bad.warmupEpochs = 8
        #expect(throws: TrainingError.self) { try bad.validate(epochs: 10, switchEpoch: 7) }
        // The default: the decay starts at the paper's T = 15 of 20 epochs.
        let perEpoch = 54
        #expect(TrainingRecipe.stable.learningRate(base: 0.01, step: 15 * perEpoch - 1, totalSteps: 20 * perEpoch,
                                                   stepsPerEpoch: perEpoch, switchEpoch: 15) == 0.01)
        #expect(TrainingRecipe.stable.learningRate(base: 0.01, step: 15 * perEpoch + 1, totalSteps: 20 * perEpoch,
                                                   stepsPerEpoch: perEpoch, switchEpoch: 15) < 0.01)
    }

    @Test func aRecipeWrittenBeforeTheDecayFractionReadsWithTheDefaultQuarter() throws {
        let old = #"{"learningRateSchedule":"cosine","warmupEpochs":0,"weightAverage":"ema","emaDecay":0.99,"batchNormStatistics":"precise","preciseStatisticsImages":512}"#
        let recipe = try JSONDecoder().decode(TrainingRecipe.self, from: Data(old.utf8))
        #expect(recipe.decayFraction == 0.25)
        #expect(recipe.learningRateSchedule == .cosine && recipe.batchNormStatistics == .precise)
        let again = try JSONDecoder().decode(TrainingRecipe.self, from: JSONEncoder().encode(recipe))
        #expect(again == recipe)
    }

    @Test func emaDecayWarmsUpAsTensorFlows() {
        let recipe = TrainingRecipe.stable
        #expect(abs(recipe.emaDecay(afterSteps: 0) - 0.1) < 1e-12)
        #expect(abs(recipe.emaDecay(afterSteps: 10) - 11.0 / 20) < 1e-12)
        #expect(recipe.emaDecay(afterSteps: 100_000) == recipe.emaDecay)
    }

    @Test func theTrainerFollowsTheScheduleAndAveragesTheWeights() throws {
        var configuration = toyConfiguration(epochs: 3)
        configuration.recipe = TrainingRecipe(learningRateSchedule: .cosine, weightAverage: .ema, emaDecay: 0.9, batchNormStatistics: .running)
        let (trainer, data, state, method) = try trainedNaiveRun(configuration)
        let batches = (data.train.count + configuration.batchSize - 1) / configuration.batchSize
        for metrics in state.history {
            let step = metrics.epoch * batches - 1
            let expected = configuration.recipe.learningRate(base: configuration.learningRate, step: step,
                                                             totalSteps: 3 * batches, stepsPerEpoch: batches,
                                                             switchEpoch: configuration.switchEpoch)
            #expect(metrics.learningRate == Double(expected))
        }
        let average = try #require(state.averagedModel)
        #expect(average.classifier.weight != state.model.classifier.weight)
        // The evaluated model is the average.
        #expect(trainer.evaluationModels(state: state, data: data, method: method).model.classifier.weight == average.classifier.weight)
    }

    @Test func preciseStatisticsRepairSpoiledRunningStatistics() throws {
        var configuration = toyConfiguration(epochs: 6)
        configuration.recipe = .paper
        let (_, data, state, _) = try trainedNaiveRun(configuration)
        let test = data.test[0].set
        let trained = Trainer.evaluate(state.model, on: test).accuracy
        var spoiled = state.model
        for b in spoiled.blocks.indices {
            let c = spoiled.blocks[b].batchNorm.channels
            spoiled.blocks[b].batchNorm.runningMean = Tensor(repeating: 3, shape: [c])
            spoiled.blocks[b].batchNorm.runningVar = Tensor(repeating: 50, shape: [c])
        }
        let broken = Trainer.evaluate(spoiled, on: test).accuracy
        let repaired = Trainer.evaluate(spoiled.withPreciseStatistics(over: data.train.images), on: test).accuracy
        #expect(trained >= 0.9)
        #expect(broken <= 0.5)
        #expect(repaired >= trained - 0.1)
    }

    @Test func cleanValidationAdaptsOnlyTheCleanShare() throws {
        var configuration = toyConfiguration(epochs: 2)
        configuration.recipe = TrainingRecipe(learningRateSchedule: .cosine, weightAverage: .none, batchNormStatistics: .cleanValidation)
        let clean = toyData(count: 30, seed: 9, noise: 0.02), noisy = toyData(count: 30, seed: 9, noise: 0.3)
        let sets = TestSets(clean: clean, noisy: noisy, noisyItems: [(rho: 0, items: []), (rho: 1, items: Array(0..<30))])
        let data = TrainingData(train: toyData(count: 96, seed: 1, noise: 0.3), validation: toyData(count: 15, seed: 2, noise: 0.02), testSets: sets)
        let (trainer, _, state, method) = try trainedNaiveRun(configuration, data: data)
        let last = try #require(state.history.last)
        let adapted = try #require(last.adaptedTest)
        let models = trainer.evaluationModels(state: state, data: data, method: method)
        let cleanAdapted = try #require(models.cleanAdapted)
        // rho = 0: all clean, classified by the adapted model; rho = 1: all noisy, as unadapted. The images go through
        // the network in other batches here than in the trainer, and OpenBLAS's kernels (SkylakeX among them) round
        // a GEMM differently for other matrix sizes: the same predictions, and mean losses equal to Float rounding
        // (~1e-7 relative per logit; 1e-5 leaves room for the 5 layers).
        func expectSame(_ a: Evaluation, _ b: Evaluation, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(a.confusion == b.confusion, sourceLocation: sourceLocation)
            #expect(abs(a.meanLoss - b.meanLoss) <= 1e-5 * max(1, abs(b.meanLoss)), sourceLocation: sourceLocation)
        }
        expectSame(adapted[0].evaluation, Trainer.evaluate(cleanAdapted, on: clean))
        expectSame(adapted[1].evaluation, last.test[1].evaluation)
        expectSame(last.test[0].evaluation, Trainer.evaluate(models.model, on: clean))
        // And the adaptation does change the clean figure's model: its statistics are the validation images'.
        #expect(cleanAdapted.blocks[0].batchNorm.runningMean != models.model.blocks[0].batchNorm.runningMean)
    }

    @Test func configurationsWrittenBeforeTheRecipeDecodeAsThePaperRecipe() throws {
        var configuration = toyConfiguration()
        configuration.recipe = .stable
        var object = try #require(JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any])
        #expect(object["recipe"] != nil)
        object["recipe"] = nil
        object["evaluateRecipeVariants"] = nil
        var adversarial = try #require(object["adversarial"] as? [String: Any])
        adversarial["earlyStop"] = nil
        adversarial["pgdSteps"] = nil
        object["adversarial"] = adversarial
        let old = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.recipe == .paper)
        #expect(old.adversarial.earlyStop == false && old.adversarial.pgdSteps == 10)
        var expected = configuration
        expected.recipe = .paper
        #expect(old == expected)
    }

    @Test func recipeSettingsOutOfRangeAreRefused() {
        var configuration = toyConfiguration()
        configuration.recipe.emaDecay = 1
        #expect(throws: TrainingError.self) { try configuration.validate() }
        configuration = toyConfiguration()
        configuration.recipe.warmupEpochs = 3
        #expect(throws: TrainingError.self) { try configuration.validate() }
    }
}

/// The saved model is the evaluated one: averaged weights and precise statistics in PyTorch's names, so that any
/// reader of the file (PyTorch's `eval()`, `tools/check_checkpoint_in_torch.py`) classifies as the run did.
@Suite struct SavedRecipeModelTests {
    @Test func theSavedFileHoldsTheEvaluatedWeightsAndStatistics() throws {
        var configuration = toyConfiguration(epochs: 2)
        configuration.recipe = .stable
        let (trainer, data, state, method) = try trainedNaiveRun(configuration)
        let models = trainer.evaluationModels(state: state, data: data, method: method)
        let folder = NSTemporaryDirectory() + "recipe-model-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, model) in [("model", models.model), ("adapted", try #require(models.cleanAdapted))] {
            let path = "\(folder)/\(name).safetensors"
            try ModelCheckpoint.save(model, to: path)
            let loaded = try ModelCheckpoint.load(from: path, threads: 1)
            #expect(loaded.namedTensors().map(\.tensor) == model.namedTensors().map(\.tensor))
            let images = data.test[0].set.images
            #expect(loaded.evaluated(images).logits == model.evaluated(images).logits)
        }
        // The averaged weights, not the last step's; statistics recomputed, not the running averages.
        #expect(models.model.classifier.weight == state.averagedModel?.classifier.weight)
        #expect(models.model.blocks[0].batchNorm.runningMean != state.averagedModel?.blocks[0].batchNorm.runningMean)
        #expect(models.model.evaluated(data.test[0].set.images).logits.argmaxRows()
                == Trainer.logits(models.model, images: data.test[0].set.images).argmaxRows())
    }
}
