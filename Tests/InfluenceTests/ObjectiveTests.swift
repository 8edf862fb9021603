import Testing
import Tensor
import TestSupport
@testable import Influence

@Suite struct ObjectiveTests {
    @Test func perSampleGradientMatchesFiniteDifferencesOfTheLoss() {
        let (objective, _) = TestProblems.random()
        for i in [0, 7, 39] {
            let single = LabelledFeatures(features: Tensor(shape: [1, 5], scalars: Array(objective.design[(i * 6)..<(i * 6 + 5)].map { Float($0) })),
                                          labels: [objective.labels[i]])
            let loss = { (theta: [Double]) in objective.withParameters(theta).meanLoss(on: single) }
            let numeric = TestProblems.numericGradient(loss, at: objective.parameters)
            let analytic = objective.perSampleGradients(samples: [i])[0]
            #expect(TestProblems.relativeMaxError(analytic, numeric) < InfluenceTolerance.doubleFiniteDifference)
        }
    }

    @Test func meanGradientsMatchFiniteDifferences() {
        let (objective, validation) = TestProblems.random(weights: (0..<40).map { Double($0 % 3) * 0.5 })
        let training = TestProblems.numericGradient({ objective.withParameters($0).meanTrainingLoss() }, at: objective.parameters)
        #expect(TestProblems.relativeMaxError(objective.meanTrainingGradient(), training) < InfluenceTolerance.doubleFiniteDifference)
        let held = TestProblems.numericGradient({ objective.withParameters($0).meanLoss(on: validation) }, at: objective.parameters)
        #expect(TestProblems.relativeMaxError(objective.meanGradient(on: validation), held) < InfluenceTolerance.doubleFiniteDifference)
    }

    @Test func hessianMatchesFiniteDifferencesOfTheGradient() {
        let (objective, _) = TestProblems.random(weights: (0..<40).map { 0.25 + Double($0 % 4) * 0.5 })
        let p = objective.parameterCount
        let h = objective.hessian()
        for column in [0, 5, 6, 11, 17] {
            var plus = objective.parameters, minus = objective.parameters
            plus[column] += 1e-5
            minus[column] -= 1e-5
            let gp = objective.withParameters(plus).meanTrainingGradient()
            let gm = objective.withParameters(minus).meanTrainingGradient()
            let numeric = (0..<p).map { (gp[$0] - gm[$0]) / 2e-5 }
            let analytic = (0..<p).map { h[$0 * p + column] }
            #expect(TestProblems.relativeMaxError(analytic, numeric) < InfluenceTolerance.doubleFiniteDifference)
        }
    }

    /// The Hessian's sums are split into a fixed number of pieces whatever the thread count: the same bits at 1, 2,
    /// 3 and 7 threads.
    @Test(arguments: [2, 3, 7])
    func hessianSplitOverThreadsMatchesOneThread(threads: Int) {
        let (objective, _) = TestProblems.random(weights: (0..<40).map { Double($0 % 5) * 0.3 })
        #expect(objective.hessian(threads: threads) == objective.hessian(threads: 1))
    }

    @Test func hessianVectorProductEqualsExplicitHessianTimesVector() {
        let (objective, _) = TestProblems.random(weights: (0..<40).map { Double($0 % 5) * 0.3 })
        let p = objective.parameterCount
        let v = TestProblems.vector(p, seed: 3)
        let explicit = Linalg.matrixVector(objective.hessian(), rows: p, cols: p, v)
        #expect(TestProblems.relativeMaxError(objective.hessianVectorProduct(v), explicit) < InfluenceTolerance.doubleRounding)
        // A mini-batch HVP (with a repeated sample) is the mean of the samples' Hessians times v.
        let batch = [3, 3, 17, 29]
        var expected = [Double](repeating: 0, count: p)
        for i in batch {
            var weights = [Double](repeating: 0, count: 40)
            weights[i] = objective.sampleWeights[i] * 40 / Double(batch.count)
            Linalg.axpy(1, objective.withSampleWeights(weights).hessianVectorProduct(v), &expected)
        }
        #expect(TestProblems.relativeMaxError(objective.hessianVectorProduct(v, samples: batch), expected) < InfluenceTolerance.doubleRounding)
    }

    @Test func gradientDotsMatchDensePerSampleGradients() {
        let (objective, _) = TestProblems.random()
        let s = TestProblems.vector(objective.parameterCount, seed: 4)
        let dense = objective.perSampleGradients(samples: Array(0..<40)).map { Linalg.dot($0, s) }
        #expect(TestProblems.relativeMaxError(objective.perSampleGradientDots(s), dense) < InfluenceTolerance.doubleRounding)
    }

    @Test func curvatureBoundsBoundEachSampleHessian() throws {
        let (objective, _) = TestProblems.random()
        let bounds = objective.perSampleCurvatureBounds()
        for i in [0, 9, 21] {
            var weights = [Double](repeating: 0, count: 40)
            weights[i] = 40
            let single = objective.withSampleWeights(weights)
            let top = try Linalg.symmetricEigenvalues(single.hessian(), order: single.parameterCount).last ?? 0
            #expect(top <= bounds[i] * (1 + 1e-12))
            #expect(top >= 0.25 * bounds[i])
        }
    }

    /// Eq. 8 at feature level: d/dh_i of f_i(h) = s . grad_theta L(z_i) at h_i, against central differences.
    @Test func perturbationFeatureGradientMatchesFiniteDifferences() {
        var g = SeededGenerator(seed: 9)
        let n = 6, d = 5, c = 3
        let features = Tensor(randomNormal: [n, d], generator: &g)
        let labels = [0, 1, 2, 2, 1, 0]
        let weight = Tensor(randomNormal: [c, d], generator: &g)
        let bias = Tensor(randomNormal: [c], generator: &g)
        let training = LabelledFeatures(features: features, labels: labels)
        let objective = SoftmaxLinearObjective(training: training, weight: weight, bias: bias)
        let s = TestProblems.vector(objective.parameterCount, seed: 10)
        let analytic = objective.perturbationFeatureGradient(inverseHVP: s)
        #expect(analytic.shape == [n, d])
        // Sum over i of f_i(h_i): its gradient in features row i is d f_i / d h_i.
        let total = { (x: Tensor) -> Double in
            SoftmaxLinearObjective(training: LabelledFeatures(features: x, labels: labels), weight: weight, bias: bias)
                .perSampleGradientDots(s).reduce(0, +)
        }
        let check = gradientCheck(of: total, at: features, analytic: analytic, step: 1e-2)
        #expect(check.worst < Double(Tolerance.finiteDifference), "worst \(check)")
    }
}
