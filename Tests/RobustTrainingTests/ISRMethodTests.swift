import Foundation
import Testing
import NN
@testable import RobustTraining
import Tensor

/// The toy configuration with an influence method switching at epoch `switchEpoch` (exact solver: fast
/// and deterministic at D = 128).
func influenceConfiguration(_ method: TrainingMethodKind, epochs: Int = 3, switchEpoch: Int = 2,
                            solver: InfluenceSolverKind = .exact) -> TrainingConfiguration {
    var configuration = toyConfiguration(epochs: epochs)
    configuration.method = method
    var influence = InfluenceSettings()
    influence.solver = solver
    configuration.isr.switchEpoch = switchEpoch
    configuration.isr.influence = influence
    configuration.isp.switchEpoch = switchEpoch
    configuration.isp.influence = influence
    return configuration
}

/// Trains `configuration` straight through, and again stopped after `stopAfter` epochs, checkpointed,
/// restored into a fresh state and finished: both final states.
func uninterruptedAndResumed(_ configuration: TrainingConfiguration, stopAfter: Int) throws -> (full: TrainingState, resumed: TrainingState) {
    let data = toyTrainingData()
    let trainer = Trainer(configuration: configuration)
    var method = try TrainingMethods.make(for: configuration)
    var full = try trainer.initialState(data: data)
    try trainer.run(data: data, method: &method, state: &full)

    // The same run killed after `stopAfter` epochs: its last checkpoint is that epoch's.
    let path = NSTemporaryDirectory() + "resume-\(UUID().uuidString)/checkpoint.safetensors"
    struct Interrupted: Error {}
    var first = try TrainingMethods.make(for: configuration)
    var partial = try trainer.initialState(data: data)
    do {
        try trainer.run(data: data, method: &first, state: &partial) { state, method in
            try TrainingCheckpoint.save(state, method: method, configuration: configuration,
                                        originalTrainImages: data.train.images, to: path)
            if state.completedEpochs == stopAfter { throw Interrupted() }
        }
    } catch is Interrupted {}
    var second = try TrainingMethods.make(for: configuration)
    var resumed = try TrainingCheckpoint.load(from: path, configuration: configuration,
                                              fresh: try trainer.initialState(data: data), method: &second)
    try trainer.run(data: data, method: &second, state: &resumed)
    return (full, resumed)
}

@Suite struct ISRMethodTests {
    @Test func minMaxWeightsSpanOneToAlphaInBothDirections() {
        let scores = [0.5, -2.0, 3.0, 0.0]
        let harmful = ISRMethod.weights(scores: scores, alpha: 2, direction: .harmfulUp)
        let helpful = ISRMethod.weights(scores: scores, alpha: 2, direction: .helpfulUp)
        // harmful-up: the largest I_up (index 2) weighs alpha, the smallest (index 1) weighs 1.
        #expect(harmful[2] == 2 && harmful[1] == 1)
        #expect(abs(harmful[0] - Float(1 + 2.5 / 5)) < 1e-6)
        #expect(helpful[1] == 2 && helpful[2] == 1)
        #expect(abs(helpful[3] - Float(1 + 3.0 / 5)) < 1e-6)
        let wide = ISRMethod.weights(scores: scores, alpha: 5, direction: .harmfulUp)
        #expect(wide.min() == 1 && wide.max() == 5)
        for (a, b) in zip(harmful, helpful) { #expect(abs((a - 1) + (b - 1) - 1) < 1e-6) }
    }

    @Test func constantScoresGiveUnitWeights() {
        #expect(ISRMethod.weights(scores: [0.3, 0.3, 0.3], alpha: 2, direction: .helpfulUp) == [1, 1, 1])
        #expect(ISRMethod.weights(scores: [], alpha: 2, direction: .harmfulUp) == [])
    }

    @Test func reweightsExactlyAtTheSwitchEpochAndTrainingContinues() throws {
        let data = toyTrainingData()
        let configuration = influenceConfiguration(.isr, epochs: 3, switchEpoch: 2)
        let trainer = Trainer(configuration: configuration)
        var method = try TrainingMethods.make(for: configuration)
        var state = try trainer.initialState(data: data)
        try trainer.run(data: data, method: &method, state: &state)
        #expect(state.history.map { $0.event == nil } == [true, true, false])
        #expect(state.history[2].event?.hasPrefix("ISR: weights in [1, 2] (helpful-up), solver exact") == true)
        let weights = try #require(state.sampleWeights)
        #expect(weights.count == data.train.count && weights.min() == 1 && weights.max() == 2)
        #expect(state.history[2].trainLoss.isFinite)

        // Before T the run is the naive one; from T on the weighted loss changes it.
        var naiveConfiguration = configuration
        naiveConfiguration.method = .naive
        var naive = NaiveMethod()
        var naiveState = try Trainer(configuration: naiveConfiguration).initialState(data: data)
        try Trainer(configuration: naiveConfiguration).run(data: data, method: &naive, state: &naiveState)
        #expect(Array(state.history.prefix(2).map(\.trainLoss)) == Array(naiveState.history.prefix(2).map(\.trainLoss)))
        #expect(state.history[2].trainLoss != naiveState.history[2].trainLoss)

        // The scores are method state, saved for resumption and reports.
        let saved = Dictionary(uniqueKeysWithValues: method.checkpointTensors().map { ($0.name, $0.tensor) })
        #expect(saved["influence_scores"]?.shape == [data.train.count])
        #expect(saved["isr_weights"]?.scalars == weights)
    }

    @Test func resumingAfterTheSwitchGivesTheUninterruptedModel() throws {
        let (full, resumed) = try uninterruptedAndResumed(influenceConfiguration(.isr, epochs: 4, switchEpoch: 2), stopAfter: 3)
        #expect(resumed.sampleWeights == full.sampleWeights)
        #expect(resumed.history.map(\.trainLoss) == full.history.map(\.trainLoss))
        #expect(resumed.model.namedTensors().map(\.tensor) == full.model.namedTensors().map(\.tensor))
    }

    /// At the switch epoch a fixed LiSSA scale below the top eigenvalue gives way to the automatic scale: the run is
    /// the `auto` run, with a warning on that epoch naming the scale used and the options (a refusal there wasted the
    /// T epochs trained).
    @Test func aLiSSAScaleBelowTheTopEigenvalueFallsBackToTheAutomaticScale() throws {
        var configuration = influenceConfiguration(.isr, epochs: 2, switchEpoch: 1, solver: .lissa)
        configuration.isr.influence.damping = 0.001
        configuration.isr.influence.lissaScale = .fixed(0.01)
        let data = toyTrainingData()
        func trained(_ configuration: TrainingConfiguration) throws -> TrainingState {
            let trainer = Trainer(configuration: configuration)
            var method = try TrainingMethods.make(for: configuration)
            var state = try trainer.initialState(data: data)
            try trainer.run(data: data, method: &method, state: &state)
            return state
        }
        let fallback = try trained(configuration)
        let warnings = fallback.history[1].warnings ?? []
        #expect(fallback.history[0].warnings?.contains { $0.contains("LiSSA") } != true)
        let warning = try #require(warnings.first { $0.hasPrefix("the LiSSA scale 0.01 is not above the last-layer Hessian's largest eigenvalue") },
                                   "\(warnings)")
        #expect(warning.contains("used the automatic scale") && warning.contains("--lissa-scale auto"), "\(warning)")
        configuration.isr.influence.lissaScale = .auto
        let automatic = try trained(configuration)
        #expect(automatic.sampleWeights == fallback.sampleWeights)
        #expect(automatic.history[1].warnings?.contains { $0.contains("is not above") } != true, "no fallback warning where auto was asked for")
    }

    @Test func aFixedLiSSAScaleNotAboveTheDampingIsAConfigurationError() {
        var settings = InfluenceSettings()
        settings.lissaScale = .fixed(2)
        #expect(throws: TrainingError.self) { try settings.validate() }
        settings.lissaScale = .auto
        #expect(throws: Never.self) { try settings.validate() }
    }
}
