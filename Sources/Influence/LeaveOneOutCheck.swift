import Tensor

/// Settings of the leave-one-out check.
public struct LeaveOneOutConfiguration: Codable, Sendable, Equatable {
    /// lambda: the L2 weight of the fitted objective, and hence every solver's damping.
    public var damping: Double = 0.01
    /// Points retrained without: half with the largest |I_up|, half drawn at random (seeded).
    public var pointCount: Int = 40
    public var seed: UInt64 = 0
    /// ||grad F|| at which Newton stops (Double).
    public var gradientTolerance: Double = 1e-10
    public var cgTolerance: Double = 1e-10
    /// LiSSA's settings for the comparison with the exact solve (default: the authors').
    public var lissa: LiSSAConfiguration = LiSSAConfiguration()

    public init(damping: Double = 0.01, pointCount: Int = 40, seed: UInt64 = 0,
                lissa: LiSSAConfiguration = LiSSAConfiguration()) {
        self.damping = damping
        self.pointCount = pointCount
        self.seed = seed
        self.lissa = lissa
    }
}

/// What the leave-one-out check measured.
public struct LeaveOneOutReport: Codable, Sendable {
    public var trainingCount: Int
    public var damping: Double
    public var fitIterations: Int
    public var fitGradientNorm: Double
    /// The largest ||grad F|| left after the leave-one-out retrainings (should be ~ the tolerance).
    public var retrainGradientNorm: Double
    /// Training points retrained without.
    public var indices: [Int]
    /// Predicted change of the mean validation loss when removing each point: -(1/n) I_up,loss.
    public var predicted: [Double]
    /// Measured change: L_val(theta_-i) - L_val(theta*), after retraining without the point.
    public var actual: [Double]
    public var pearson: Double
    public var spearman: Double
    /// Fraction of points where predicted and measured changes have the same sign.
    public var signAgreement: Double
    /// ||s_cg - s_exact|| / ||s_exact||.
    public var cgRelativeError: Double
    public var cgIterations: Int
    public var lissaCosine: Double
    public var lissaRelativeError: Double
    public var lissaScale: Double
    public var exactSeconds: Double
    public var cgSeconds: Double
    public var lissaSeconds: Double
    public var retrainSeconds: Double

    enum CodingKeys: String, CodingKey {
        case trainingCount = "n", damping, fitIterations = "fit_iterations", fitGradientNorm = "fit_gradient_norm"
        case retrainGradientNorm = "retrain_gradient_norm"
        case indices, predicted, actual, pearson, spearman, signAgreement = "sign_agreement"
        case cgRelativeError = "cg_rel_error", cgIterations = "cg_iterations", lissaCosine = "lissa_cosine"
        case lissaRelativeError = "lissa_rel_error", lissaScale = "lissa_scale", exactSeconds = "exact_seconds"
        case cgSeconds = "cg_seconds", lissaSeconds = "lissa_seconds", retrainSeconds = "retrain_seconds"
    }
}

/// Checks Eq. 7 against leave-one-out retraining on a features problem (synthetic, or CNN features):
/// 1. fit theta* = argmin F(theta) = R(theta) + (lambda/2)||theta||^2 by Newton from zero (Double);
/// 2. I_up,loss for every training point with the exact solver (damping lambda = Hess F - H);
/// 3. for the chosen points, retrain F without the point — R keeps its 1/n, the point gets weight 0,
///    i.e. epsilon = -1/n in Koh and Liang's perturbation — by Newton warm-started at theta*, and
///    measure the change of the mean validation loss; the prediction is -(1/n) I_up,loss(z_i);
/// 4. compare the CG and LiSSA solutions of the same system with the exact one.
public enum LeaveOneOutCheck {
    public static func run(
        training: LabelledFeatures, validation: LabelledFeatures, classCount: Int,
        configuration: LeaveOneOutConfiguration = LeaveOneOutConfiguration()
    ) throws -> LeaveOneOutReport {
        let lambda = configuration.damping
        let start = SoftmaxLinearObjective(
            training: training, classCount: classCount,
            parameters: [Double](repeating: 0, count: classCount * (training.featureCount + 1)))
        let fit = try NewtonFit.fit(start, damping: lambda, gradientTolerance: configuration.gradientTolerance)
        let objective = fit.objective
        let n = objective.trainingCount

        let (exact, exactSeconds) = try timed { try ExactSolver(objective: objective, damping: lambda) }
        let influence = try upweightingInfluence(objective: objective, validation: validation, solver: exact)
        let indices = chosenPoints(scores: influence.scores, count: configuration.pointCount, seed: configuration.seed)

        let baseLoss = objective.meanLoss(on: validation)
        var retrainGradientNorm = 0.0
        let (actual, retrainSeconds) = try timed { () throws -> [Double] in
            try indices.map { i in
                var weights = objective.sampleWeights
                weights[i] = 0
                let without = try NewtonFit.fit(objective.withSampleWeights(weights), damping: lambda,
                                                gradientTolerance: configuration.gradientTolerance, maxIterations: 20)
                retrainGradientNorm = Swift.max(retrainGradientNorm, without.gradientNorm)
                return without.objective.meanLoss(on: validation) - baseLoss
            }
        }
        let predicted = indices.map { -influence.scores[$0] / Double(n) }
        let agree = zip(predicted, actual).filter { ($0 > 0) == ($1 > 0) }.count

        let v = influence.validationGradient
        let sExact = influence.inverseHVP
        let cg = try ConjugateGradientSolver(objective: objective, damping: lambda, tolerance: configuration.cgTolerance).solve(v)
        let lissa = try LiSSASolver(objective: objective, damping: lambda, configuration: configuration.lissa).solve(v)

        return LeaveOneOutReport(
            trainingCount: n, damping: lambda, fitIterations: fit.iterations, fitGradientNorm: fit.gradientNorm,
            retrainGradientNorm: retrainGradientNorm,
            indices: indices, predicted: predicted, actual: actual,
            pearson: Correlation.pearson(predicted, actual), spearman: Correlation.spearman(predicted, actual),
            signAgreement: Double(agree) / Double(Swift.max(1, indices.count)),
            cgRelativeError: Linalg.relativeDistance(cg.solution, from: sExact), cgIterations: cg.report.iterations,
            lissaCosine: Linalg.cosine(lissa.solution, sExact),
            lissaRelativeError: Linalg.relativeDistance(lissa.solution, from: sExact),
            lissaScale: lissa.report.lissaScale ?? 0,
            exactSeconds: exactSeconds + influence.report.solveSeconds, cgSeconds: cg.report.solveSeconds,
            lissaSeconds: lissa.report.setupSeconds + lissa.report.solveSeconds, retrainSeconds: retrainSeconds)
    }

    /// Half the points with the largest |score|, the rest drawn at random from the others (seeded).
    static func chosenPoints(scores: [Double], count: Int, seed: UInt64) -> [Int] {
        let total = Swift.min(count, scores.count)
        let byMagnitude = scores.indices.sorted { abs(scores[$0]) > abs(scores[$1]) }
        var chosen = Array(byMagnitude.prefix(total / 2))
        var generator = SeededGenerator(seed: seed, purpose: .leaveOneOutChoice)
        let rest = byMagnitude.dropFirst(total / 2)
        let shuffled = generator.permutation(rest.count).map { rest[rest.startIndex + $0] }
        chosen.append(contentsOf: shuffled.prefix(total - chosen.count))
        return chosen
    }
}
