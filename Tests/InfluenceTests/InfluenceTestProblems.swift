import Tensor
@testable import Influence

/// Small problems shared by the influence tests.
enum TestProblems {
    /// A random softmax-linear problem with random (not fitted) W, b: n = 40, D = 5, C = 3.
    static func random(n: Int = 40, d: Int = 5, c: Int = 3, seed: UInt64 = 1, weights: [Double]? = nil)
        -> (objective: SoftmaxLinearObjective, validation: LabelledFeatures)
    {
        var g = SeededGenerator(seed: seed)
        let features = Tensor(randomNormal: [n, d], generator: &g)
        let labels = (0..<n).map { _ in g.nextInt(below: c) }
        let weight = Tensor(randomNormal: [c, d], standardDeviation: 0.7, generator: &g)
        let bias = Tensor(randomNormal: [c], standardDeviation: 0.3, generator: &g)
        let validation = LabelledFeatures(features: Tensor(randomNormal: [n / 2, d], generator: &g),
                                          labels: (0..<(n / 2)).map { _ in g.nextInt(below: c) })
        let objective = SoftmaxLinearObjective(training: LabelledFeatures(features: features, labels: labels),
                                               weight: weight, bias: bias, sampleWeights: weights)
        return (objective, validation)
    }

    /// A seeded random vector of length `count`.
    static func vector(_ count: Int, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Double(g.nextGaussian()) }
    }

    /// Central differences in Double of a scalar function of theta.
    static func numericGradient(_ f: ([Double]) -> Double, at theta: [Double], step: Double = 1e-5) -> [Double] {
        (0..<theta.count).map { i in
            var plus = theta, minus = theta
            plus[i] += step
            minus[i] -= step
            return (f(plus) - f(minus)) / (2 * step)
        }
    }

    /// Largest |a - b| / max(|b|_inf, floor).
    static func relativeMaxError(_ a: [Double], _ b: [Double], floor: Double = 1e-12) -> Double {
        precondition(a.count == b.count)
        var worst = 0.0, scale = floor
        for i in 0..<a.count {
            worst = max(worst, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return worst / scale
    }
}

/// Tolerances of the influence tests, named.
enum InfluenceTolerance {
    /// Double central differences (step 1e-5) of smooth closed forms: relative error.
    static let doubleFiniteDifference = 1e-6
    /// Two exact Double computations of the same quantity (different summation orders).
    static let doubleRounding = 1e-10
    /// Exact vs CG solution, relative (the brief: 1e-5).
    static let exactVersusCG = 1e-5
}
