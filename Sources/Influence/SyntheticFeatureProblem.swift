import Tensor

/// A small seeded last-layer problem, so the influence machinery can be checked without the CNN:
/// C Gaussian clusters in D dimensions (class means of norm `separation`, unit isotropic noise),
/// training labels flipped to another class with probability `labelNoise`; validation labels clean.
public struct SyntheticFeatureProblem: Sendable {
    public var training: LabelledFeatures
    public var validation: LabelledFeatures
    public var classCount: Int
    /// Training points whose label was flipped.
    public var flippedLabels: [Int]

    public static func gaussianClusters(
        trainingCount: Int = 300, validationCount: Int = 200, featureCount: Int = 32, classCount: Int = 3,
        separation: Float = 3, labelNoise: Double = 0.1, seed: UInt64 = 0
    ) -> SyntheticFeatureProblem {
        precondition(classCount >= 2 && featureCount >= 1 && trainingCount >= 1,
                     "SyntheticFeatureProblem: C = \(classCount), D = \(featureCount), n = \(trainingCount)")
        var generator = SeededGenerator(seed: seed)
        var means: [[Float]] = []
        for _ in 0..<classCount {
            var mean = (0..<featureCount).map { _ in generator.nextGaussian() }
            let length = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            mean = mean.map { $0 * separation / Swift.max(length, 1e-6) }
            means.append(mean)
        }
        func sample(_ count: Int, noise: Double, generator: inout SeededGenerator) -> (LabelledFeatures, [Int]) {
            var features = [Float](repeating: 0, count: count * featureCount)
            var labels = [Int](repeating: 0, count: count)
            var flipped: [Int] = []
            for i in 0..<count {
                let label = generator.nextInt(below: classCount)
                for j in 0..<featureCount { features[i * featureCount + j] = means[label][j] + generator.nextGaussian() }
                labels[i] = label
                if generator.nextUniformDouble() < noise {
                    labels[i] = (label + 1 + generator.nextInt(below: classCount - 1)) % classCount
                    flipped.append(i)
                }
            }
            return (LabelledFeatures(features: Tensor(shape: [count, featureCount], scalars: features), labels: labels), flipped)
        }
        let (training, flipped) = sample(trainingCount, noise: labelNoise, generator: &generator)
        let (validation, _) = sample(validationCount, noise: 0, generator: &generator)
        return SyntheticFeatureProblem(training: training, validation: validation, classCount: classCount,
                                       flippedLabels: flipped)
    }
}
