import Influence
import NN
import Tensor
import Testing
@testable import RobustTraining

/// The influence step's user-facing failures: the message names the option that fixes them.
@Suite struct InfluenceStepTests {
    /// A last layer on features of magnitude up to 6 (D = 128): its Hessian's largest eigenvalue is far above the
    /// authors' LiSSA scale of 50, as on small models (a newcomer's `influence` on the quick model stopped there).
    static func largeEigenvalueProblem() throws -> (model: CNN, training: LabelledFeatures, validation: LabelledFeatures) {
        let configuration = CNNConfiguration(imageSize: 16, channels: [4, 8], kernelSize: 3, padding: .same)
        var generator = SeededGenerator(seed: 1)
        let model = try CNN(configuration: configuration, generator: &generator, threads: 1)
        let d = configuration.featureCount
        func features(_ n: Int, offset: Int) -> LabelledFeatures {
            LabelledFeatures(features: Tensor(shape: [n, d], scalars: (0..<(n * d)).map { Float(($0 * 37 + offset) % 13) / 2 }),
                             labels: (0..<n).map { $0 % 3 })
        }
        return (model, features(40, offset: 0), features(12, offset: 5))
    }

    @Test func aLiSSAScaleBelowTheTopEigenvalueNamesLissaScaleAuto() throws {
        let (model, training, validation) = try Self.largeEigenvalueProblem()
        let fixed = InfluenceComputation(settings: InfluenceSettings(), batchSize: 8, seed: 1, threads: 1)
        #expect(fixed.settings.lissaScale == .fixed(50))
        let error = #expect(throws: TrainingError.self) {
            _ = try fixed.scores(training: training, validation: validation, model: model)
        }
        let message = "\(try #require(error))"
        #expect(message.contains("Fix: pass --lissa-scale auto"), "\(message)")
        // The fix the message names works on the same problem.
        var settings = InfluenceSettings()
        settings.lissaScale = .auto
        let result = try InfluenceComputation(settings: settings, batchSize: 8, seed: 1, threads: 1)
            .scores(training: training, validation: validation, model: model)
        #expect(result.scores.count == 40 && result.scores.allSatisfy(\.isFinite))
        #expect((result.report.lissaScale ?? 0) > 50, "scale \(String(describing: result.report.lissaScale))")
    }

    /// The in-training step (`fallsBackToAutomaticScale`) computes the `auto` scores where the explicit one refuses, with
    /// a warning naming the failed scale, the eigenvalue, the scale used and how to set it; a failure the automatic
    /// scale cannot fix (CG without convergence) is still refused.
    @Test func theInTrainingStepFallsBackToTheAutomaticScaleWithAWarning() throws {
        let (model, training, validation) = try Self.largeEigenvalueProblem()
        let fallback = try InfluenceComputation(settings: InfluenceSettings(), batchSize: 8, seed: 1, threads: 1, fallsBackToAutomaticScale: true)
            .scores(training: training, validation: validation, model: model)
        var settings = InfluenceSettings()
        settings.lissaScale = .auto
        let automatic = try InfluenceComputation(settings: settings, batchSize: 8, seed: 1, threads: 1)
            .scores(training: training, validation: validation, model: model)
        // No fallback warning where auto was asked for (a truncation warning may come with this small problem's solve).
        #expect(fallback.scores == automatic.scores && !automatic.warnings.contains { $0.hasPrefix("the LiSSA scale") })
        let warning = try #require(fallback.warnings.first)
        let scale = try #require(automatic.report.lissaScale), eigenvalue = try #require(automatic.report.largestEigenvalue)
        #expect(warning.hasPrefix("the LiSSA scale 50 is not above the last-layer Hessian's largest eigenvalue \(LiSSAScaleFallback.number(eigenvalue))"), "\(warning)")
        #expect(warning.contains("the automatic scale \(LiSSAScaleFallback.number(scale)) instead"), "\(warning)")
        #expect(warning.contains("--lissa-scale auto, or --lissa-scale"), "\(warning)")

        var cg = InfluenceSettings()
        cg.solver = .cg
        cg.cgMaxIterations = 1
        cg.cgTolerance = 1e-12
        #expect(throws: TrainingError.self) {
            _ = try InfluenceComputation(settings: cg, batchSize: 8, seed: 1, threads: 1, fallsBackToAutomaticScale: true)
                .scores(training: training, validation: validation, model: model)
        }
    }
}
