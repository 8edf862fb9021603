import Testing
import Tensor
@testable import Influence

#if canImport(Glibc)
import Glibc
#endif

/// Timing at the paper's size (n = 2300, D = 1024, C = 3): features to Eq. 7 scores with each solver,
/// and Eq. 8 feature gradients for all n. Runs only with INFLUENCE_BENCHMARK=1 (release build):
///   INFLUENCE_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --filter InfluenceBenchmarkTests
@Suite struct InfluenceBenchmarkTests {
    static var enabled: Bool { getenv("INFLUENCE_BENCHMARK") != nil }

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    @Test(.enabled(if: InfluenceBenchmarkTests.enabled)) func paperSizedTimings() throws {
        let n = 2300, d = 1024, c = 3
        let problem = SyntheticFeatureProblem.gaussianClusters(trainingCount: n, validationCount: 500, featureCount: d,
                                                               classCount: c, separation: 3, seed: 4)
        var g = SeededGenerator(seed: 5)
        let weight = Tensor(randomNormal: [c, d], standardDeviation: 0.05, generator: &g)
        let bias = Tensor(zeros: [c])
        BLAS.setThreads(1)
        let (objective, setup) = timed {
            SoftmaxLinearObjective(training: problem.training, weight: weight, bias: bias)
        }
        print("objective set-up (design matrix, probabilities): \(setup) s")

        let cpuBefore = Self.processCPUSeconds()
        let (exactScores, exactTotal) = try timed { () throws -> (ExactSolver, UpweightingInfluence) in
            let solver = try ExactSolver(objective: objective, damping: 2.5, threads: 2)
            return (solver, try upweightingInfluence(objective: objective, validation: problem.validation, solver: solver))
        }
        let exactCPU = Self.processCPUSeconds() - cpuBefore
        let (exact, exactInfluence) = exactScores
        print("exact: process CPU time \(exactCPU) s (Hessian assembly on 2 threads, Cholesky at 1 BLAS thread; wall time on an idle machine is about CPU / 2)")
        print("exact: total \(exactTotal) s = assembly \(exact.assemblySeconds) + Cholesky \(exact.factorizationSeconds) + solve \(exactInfluence.report.solveSeconds) + gradients/scores; residual \(exactInfluence.report.relativeResidual)")
        // Wall time depends on the machine's load (other builds); CPU time much less so.
        #expect(exactCPU < 2.0)

        let (cgInfluence, cgTotal) = try timed {
            try upweightingInfluence(objective: objective, validation: problem.validation,
                                     solver: ConjugateGradientSolver(objective: objective, damping: 2.5))
        }
        print("cg: total \(cgTotal) s, \(cgInfluence.report.iterations) iterations, rel. error vs exact \(Linalg.relativeDistance(cgInfluence.inverseHVP, from: exactInfluence.inverseHVP))")
        #expect(Linalg.relativeDistance(cgInfluence.inverseHVP, from: exactInfluence.inverseHVP) < 1e-5)

        for scale in [LiSSAConfiguration.Scale.fixed(50), .auto] {
            do {
                let (lissa, lissaTotal) = try timed {
                    try upweightingInfluence(objective: objective, validation: problem.validation,
                                             solver: LiSSASolver(objective: objective, damping: 2.5,
                                                                 configuration: LiSSAConfiguration(scale: scale)))
                }
                print("lissa \(scale): total \(lissaTotal) s (power iteration \(lissa.report.setupSeconds) s), scale \(lissa.report.lissaScale ?? 0), top eigenvalue \(lissa.report.largestEigenvalue ?? 0), cosine \(Linalg.cosine(lissa.inverseHVP, exactInfluence.inverseHVP)), rel. error \(Linalg.relativeDistance(lissa.inverseHVP, from: exactInfluence.inverseHVP)), score Pearson vs exact \(Correlation.pearson(lissa.scores, exactInfluence.scores))")
            } catch {
                print("lissa \(scale): \(error)")
            }
        }
        print("largest per-sample curvature bound: \(objective.perSampleCurvatureBounds().max() ?? 0)")

        // ReLU-like features (non-negative, so they share a large mean direction): H's top eigenvalue grows
        // with ||mean h||^2, and the authors' fixed scale 50 can be too small.
        let relu = LabelledFeatures(features: problem.training.features.mapped { Swift.max(0, $0) }, labels: problem.training.labels)
        let reluObjective = SoftmaxLinearObjective(training: relu, weight: weight, bias: bias)
        let reluValidation = LabelledFeatures(features: problem.validation.features.mapped { Swift.max(0, $0) },
                                              labels: problem.validation.labels)
        let reluExact = try upweightingInfluence(objective: reluObjective, validation: reluValidation,
                                                 solver: ExactSolver(objective: reluObjective, damping: 2.5))
        for scale in [LiSSAConfiguration.Scale.fixed(50), .auto] {
            do {
                let lissa = try upweightingInfluence(
                    objective: reluObjective, validation: reluValidation,
                    solver: LiSSASolver(objective: reluObjective, damping: 2.5, configuration: LiSSAConfiguration(scale: scale)))
                print("ReLU features, lissa \(scale): scale \(lissa.report.lissaScale ?? 0), top eigenvalue \(lissa.report.largestEigenvalue ?? 0), cosine \(Linalg.cosine(lissa.inverseHVP, reluExact.inverseHVP)), score Pearson vs exact \(Correlation.pearson(lissa.scores, reluExact.scores))")
            } catch {
                print("ReLU features, lissa \(scale): \(error)")
            }
        }

        let (features, featureSeconds) = timed { objective.perturbationFeatureGradient(inverseHVP: exactInfluence.inverseHVP) }
        print("Eq. 8 feature gradients [\(features.shape)]: \(featureSeconds) s")
        #expect(features.isFinite)
    }
}
