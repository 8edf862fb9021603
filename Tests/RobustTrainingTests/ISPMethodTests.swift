import Foundation
import Testing
import Influence
import NN
@testable import RobustTraining
import Tensor

/// A toy model trained two epochs, its training data, and the exact Eq. 7 result on it.
func trainedToyInfluence() throws -> (model: CNN, data: TrainingData, computation: InfluenceComputation,
                                      result: InfluenceComputation.Result) {
    let data = toyTrainingData()
    let configuration = toyConfiguration(epochs: 2)
    let trainer = Trainer(configuration: configuration)
    var method = NaiveMethod()
    var state = try trainer.initialState(data: data)
    try trainer.run(data: data, method: &method, state: &state)
    var settings = InfluenceSettings()
    settings.solver = .exact
    let computation = InfluenceComputation(settings: settings, batchSize: 7)
    let result = try computation.run(model: state.model, trainImages: data.train.images, trainLabels: data.train.labels,
                                     validation: data.validation)
    return (state.model, data, computation, result)
}

@Suite struct ISPMethodTests {
    @Test func topKKeepsTheMostHarmfulOrTheMostHelpful() {
        let scores = [0.1, -3.0, 2.0, 5.0, -1.0, 0.0, 2.0, -0.5]
        #expect(ISPMethod.selected(scores: scores, ratio: 0.25, ranking: .harmful) == [3, 2])
        #expect(ISPMethod.selected(scores: scores, ratio: 0.25, ranking: .helpful) == [1, 4])
        #expect(ISPMethod.selected(scores: scores, ratio: 0.5, ranking: .harmful) == [3, 2, 6, 0])
        #expect(ISPMethod.selected(scores: scores, ratio: 1.0, ranking: .helpful).sorted() == Array(0..<8))
        #expect(ISPMethod.selected(scores: scores, ratio: 0.01, ranking: .harmful) == [3])
    }

    @Test func theStepIsMinusEpsilonTimesTheInfluenceOrItsSign() {
        let iPert = Tensor(shape: [1, 1, 1, 3], scalars: [2, -0.5, 0])
        #expect(ISPMethod.step(iPert, epsilon: 0.1, kind: .raw).scalars == [-0.2, 0.05, -0])
        #expect(ISPMethod.step(iPert, epsilon: 0.1, kind: .sign).scalars == [-0.1, 0.1, 0])
    }

    /// I_pert,loss = - grad_x f with f(x) = s . grad_theta L(z(x)) at fixed s: central differences of f
    /// along random directions d match - <I_pert, d> (BatchNorm in evaluation mode; a small step keeps
    /// most ReLU/max-pool decisions fixed, and several directions guard against a kink).
    @Test func perturbationInfluenceMatchesFiniteDifferencesOfTheImage() throws {
        let (model, data, computation, result) = try trainedToyInfluence()
        let s = result.inverseHVP
        let index = 5
        let label = data.train.labels[index]
        let x = data.train.images.items(index..<(index + 1))
        func f(_ image: Tensor) -> Double {
            let h = model.evaluatedFeatures(image).features
            let objective = SoftmaxLinearObjective(training: LabelledFeatures(features: h, labels: [label]),
                                                   weight: model.classifier.weight, bias: model.classifier.bias)
            return objective.perSampleGradientDots(s)[0]
        }
        // f at the unperturbed image is the score's building block: I_up = -f.
        #expect(abs(-f(x) - result.scores[index]) <= 1e-4 * max(1, abs(result.scores[index])))
        var iPert = Tensor(zeros: [0])
        computation.forEachPerturbationInfluence(result, model: model, images: data.train.images, indices: [index]) { _, batch in
            iPert = batch
        }
        #expect(iPert.shape == [1, 1, 16, 16])
        var generator = SeededGenerator(seed: 11)
        // Step 1e-3: larger steps cross max-pool/ReLU switches (1e-2 gave 15% errors); smaller ones sink into
        // Float round-off of the features (errors here ~2% of the typical derivative).
        let t: Float = 1e-3
        let medianTolerance = 0.05, worstTolerance = 0.1
        var numerics: [Double] = [], analytics: [Double] = []
        for _ in 0..<6 {
            let d = Tensor(randomNormal: x.shape, generator: &generator)
            var plus = x, minus = x
            for i in 0..<x.count {
                plus.scalars[i] += t * d.scalars[i]
                minus.scalars[i] -= t * d.scalars[i]
            }
            let f0 = f(x), fPlus = f(plus), fMinus = f(minus)
            var analytic = 0.0
            for i in 0..<x.count { analytic -= Double(iPert.scalars[i]) * Double(d.scalars[i]) }
            // Central, forward and backward quotients: a ReLU or max-pool switch on one side of x spoils the central
            // one (it averages two slopes), while the analytic derivative is the slope on the kink-free side, which
            // the one-sided quotient on that side reproduces (same argument as NNTests' kinkAwareGradientCheck).
            let quotients = [(fPlus - fMinus) / (2 * Double(t)), (fPlus - f0) / Double(t), (f0 - fMinus) / Double(t)]
            numerics.append(quotients.min { abs($0 - analytic) < abs($1 - analytic) }!)
            analytics.append(analytic)
        }
        // Errors relative to the typical size of the directional derivative (one direction can be near 0).
        let typical = (analytics.map { $0 * $0 }.reduce(0, +) / Double(analytics.count)).squareRoot()
        let errors = zip(numerics, analytics).map { abs($0 - $1) / typical }.sorted()
        #expect(typical > 0)
        #expect(errors[errors.count / 2] < medianTolerance, "numeric \(numerics), analytic \(analytics)")
        #expect(errors.last! < worstTolerance, "numeric \(numerics), analytic \(analytics)")
    }

    @Test func perturbedImagesAreClippedAndOnlyTheKeptPointsChange() throws {
        let data = toyTrainingData()
        var configuration = influenceConfiguration(.isp, epochs: 2, switchEpoch: 1)
        configuration.isp.topKRatio = 0.25
        configuration.isp.ranking = .harmful
        configuration.isp.step = .sign
        configuration.isp.epsilon = 0.5
        let trainer = Trainer(configuration: configuration)
        var method = ISPMethod(settings: configuration.isp)
        var state = try trainer.initialState(data: data)
        try trainer.run(data: data, method: &method, state: &state)
        let kept = try #require(method.perturbedIndices)
        let scores = try #require(method.scores)
        #expect(kept == ISPMethod.selected(scores: scores, ratio: 0.25, ranking: .harmful))
        #expect(kept.count == data.train.count / 4)
        let images = state.trainImages, original = data.train.images
        #expect(images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let size = images.itemCount
        var clippedPixels = 0
        for i in 0..<data.train.count {
            let a = Array(images.scalars[(i * size)..<((i + 1) * size)])
            let b = Array(original.scalars[(i * size)..<((i + 1) * size)])
            if kept.contains(i) {
                #expect(a != b)
                clippedPixels += zip(a, b).filter { ($0.0 == 0 || $0.0 == 1) && $0.0 != $0.1 }.count
            } else {
                #expect(a == b)
            }
        }
        #expect(clippedPixels > 0)
        #expect(state.history[1].event?.hasPrefix("ISP: perturbed 24 of 96 images (harmful, sign") == true)
    }

    /// The authors' code stores the perturbed image as uint8 by truncation: a pixel on the 1/255 grid
    /// loses one grey level for any small negative delta and keeps its value for a zero or small positive
    /// one (numpy float32 gives the same: checked for every k in 0...255 with delta 0).
    @Test func authorsRoundingTruncatesToEightBits() {
        for k in 0...255 {
            let x = Float(k) / 255
            #expect(ISPMethod.perturbed(x, 0, rounding: .authorsUInt8) == x, "k \(k)")
            #expect(ISPMethod.perturbed(x, 1e-4, rounding: .authorsUInt8) == x, "k \(k)")
            #expect(ISPMethod.perturbed(x, -1e-4, rounding: .authorsUInt8) == Float(Swift.max(k - 1, 0)) / 255, "k \(k)")
            #expect(ISPMethod.perturbed(x, -1e-4, rounding: .none) == Swift.max(x - 1e-4, 0))
        }
        #expect(ISPMethod.perturbed(0.5, 0.9, rounding: .authorsUInt8) == 1)
        #expect(ISPMethod.perturbed(0.5, 3.0 / 255, rounding: .authorsUInt8) == Float(130) / 255)
    }

    @Test func authorsRoundingChangesThePerturbedImagesByWholeGreyLevels() throws {
        var data = toyTrainingData()
        // Images on the 1/255 grid, as loaded data is.
        data.train.images = data.train.images.mapped { ($0 * 255).rounded() / 255 }
        var configuration = influenceConfiguration(.isp, epochs: 2, switchEpoch: 1)
        configuration.isp.rounding = .authorsUInt8
        let trainer = Trainer(configuration: configuration)
        var method = ISPMethod(settings: configuration.isp)
        var state = try trainer.initialState(data: data)
        try trainer.run(data: data, method: &method, state: &state)
        let changes = zip(state.trainImages.scalars, data.train.images.scalars).map { ($0.0 - $0.1) * 255 }
        #expect(changes.allSatisfy { abs($0 - $0.rounded()) < 1e-3 }, "changes are not whole grey levels")
        #expect(changes.contains { $0.rounded() == -1 }, "no pixel lost a grey level")
        #expect(state.history[1].event?.contains("authors-uint8") == true)
    }

    @Test func resumingAfterThePerturbationGivesTheUninterruptedModel() throws {
        let (full, resumed) = try uninterruptedAndResumed(influenceConfiguration(.isp, epochs: 4, switchEpoch: 2), stopAfter: 3)
        #expect(resumed.trainImages == full.trainImages)
        #expect(resumed.trainImages != toyTrainingData().train.images)
        #expect(resumed.history.map(\.trainLoss) == full.history.map(\.trainLoss))
        #expect(resumed.model.namedTensors().map(\.tensor) == full.model.namedTensors().map(\.tensor))
    }

    @Test func scoresDoNotDependOnTheFeatureBatchSize() throws {
        let (model, data, computation, result) = try trainedToyInfluence()
        var other = computation
        other.batchSize = 32
        let again = try other.run(model: model, trainImages: data.train.images, trainLabels: data.train.labels,
                                  validation: data.validation)
        for (a, b) in zip(result.scores, again.scores) { #expect(abs(a - b) <= 1e-6 * max(1, abs(a))) }
    }
}
