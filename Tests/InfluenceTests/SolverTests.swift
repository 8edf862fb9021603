import Testing
import Tensor
@testable import Influence

@Suite struct SolverTests {
    @Test func exactAndConjugateGradientAgree() throws {
        let (objective, validation) = TestProblems.random()
        let v = objective.meanGradient(on: validation)
        for damping in [2.5, 0.01] {
            let exact = try ExactSolver(objective: objective, damping: damping).solve(v)
            let cg = try ConjugateGradientSolver(objective: objective, damping: damping).solve(v)
            #expect(Linalg.relativeDistance(cg.solution, from: exact.solution) < InfluenceTolerance.exactVersusCG)
            #expect(exact.report.relativeResidual < 1e-12)
            #expect(cg.report.relativeResidual < 1e-8)
            #expect(exact.report.effectiveDamping == damping && cg.report.effectiveDamping == damping)
        }
    }

    @Test func choleskyRejectsAnIndefiniteMatrix() {
        #expect(throws: Linalg.Failure.notPositiveDefinite(order: 2, pivot: 2)) {
            try CholeskyFactor(factoring: [1, 2, 2, 1], order: 2)
        }
    }

    @Test func powerIterationFindsTheTopEigenvalue() throws {
        // Diagonal operator: closed form.
        let diagonal = [0.5, 3.0, 7.0, 1.0, 6.0]
        let estimate = largestEigenvalue(dimension: 5, maxIterations: 500, relativeTolerance: 1e-12) { v in
            (0..<5).map { diagonal[$0] * v[$0] }
        }
        #expect(abs(estimate.value - 7) < 1e-6 && estimate.converged)
        // The training Hessian: against LAPACK's symmetric eigensolver.
        let (objective, _) = TestProblems.random()
        let exact = try Linalg.symmetricEigenvalues(objective.hessian(), order: objective.parameterCount)
        let top = largestEigenvalue(of: objective, maxIterations: 1000, relativeTolerance: 1e-12)
        #expect(abs(top.value - (exact.last ?? 0)) < 1e-6 * (exact.last ?? 1))
    }

    @Test func lissaConvergesToTheExactSolution() throws {
        let problem = SyntheticFeatureProblem.gaussianClusters(trainingCount: 200, featureCount: 8, seed: 2)
        let objective = SoftmaxLinearObjective(
            training: problem.training, classCount: 3,
            parameters: try NewtonFit.fit(SoftmaxLinearObjective(training: problem.training, classCount: 3,
                                                                 parameters: [Double](repeating: 0, count: 27)),
                                          damping: 0.1).objective.parameters)
        let v = objective.meanGradient(on: problem.validation)
        let exact = try ExactSolver(objective: objective, damping: 2.5).solve(v).solution
        // Scale above the top eigenvalue, depth >> 1 / damp, a few repetitions to average the batch noise.
        let configuration = LiSSAConfiguration(scale: .fixed(50), batchSize: 10, depth: 1500, repetitions: 4, seed: 1)
        let solver = try LiSSASolver(objective: objective, damping: 2.5, configuration: configuration)
        let lissa = try solver.solve(v)
        #expect(lissa.report.effectiveDamping == 2.5 && lissa.report.lissaScale == 50)
        #expect(Linalg.cosine(lissa.solution, exact) > 0.99)
        #expect(Linalg.relativeDistance(lissa.solution, from: exact) < 0.1)
    }

    @Test func lissaWithTooSmallScaleThrowsTypedErrors() throws {
        let (objective, validation) = TestProblems.random()
        let v = objective.meanGradient(on: validation)
        let top = largestEigenvalue(of: objective).value
        let small = LiSSAConfiguration(scale: .fixed(top / 4), depth: 200)
        do {
            _ = try LiSSASolver(objective: objective, damping: 0.01, configuration: small)
            Issue.record("expected lissaScaleTooSmall")
        } catch let InfluenceError.lissaScaleTooSmall(scale, largest, needed) {
            #expect(scale == top / 4 && abs(largest - top) < 1e-2 * top && needed > top)
        }
        // Without the pre-check, the recursion's own guard stops it (no NaN is returned).
        let unchecked = try LiSSASolver(objective: objective, damping: 0.01, configuration: small, checksScale: false)
        do {
            let result = try unchecked.solve(v)
            Issue.record("expected lissaDiverged, got a solution with finite = \(result.solution.allSatisfy { $0.isFinite })")
        } catch let InfluenceError.lissaDiverged(_, scale, needed) {
            #expect(scale == top / 4 && needed > scale)
        }
        // `auto` picks a working scale and reports it.
        var automatic = small
        automatic.scale = .auto
        let solved = try LiSSASolver(objective: objective, damping: 0.01, configuration: automatic).solve(v)
        #expect(solved.solution.allSatisfy { $0.isFinite })
        #expect((solved.report.lissaScale ?? 0) > top)
    }

    /// LiSSA's messages: four significant digits for the eigenvalue, and a needed scale rounded *up* to three, so
    /// that passing the printed figure is enough (an eigenvalue had been printed to 14 decimals).
    @Test func lissaMessagesGiveReadableFiguresAndASufficientScale() {
        #expect(InfluenceError.roundedUp(75.1234) == "75.2")
        #expect(InfluenceError.roundedUp(75.2) == "75.2")
        #expect(InfluenceError.roundedUp(0.0123401) == "0.0124")
        #expect(InfluenceError.roundedUp(12301) == "12400")
        let text = "\(InfluenceError.lissaScaleTooSmall(scale: 50, largestEigenvalue: 61.87654321098765, neededScale: 92.81481481648148))"
        #expect(text.contains("largest eigenvalue 61.88 ") && text.contains("at least 92.9,"), "\(text)")
        let diverged = "\(InfluenceError.lissaDiverged(step: 7, scale: 50, neededScale: 100.00000001))"
        #expect(diverged.contains("scale 50 ") && diverged.contains("at least 101,"), "\(diverged)")
    }

    /// A LiSSA recursion stopped long before it converges says so, with a depth that fixes it: the bound is the slowest
    /// direction's (1 - lambda / scale)^T, and the suggested depth leaves 1 % there.
    @Test func truncatedLiSSASaysSoAndItsSuggestedDepthConverges() throws {
        // The bound's closed form: 3 steps at scale 108.6 and damping 2.5 leave 93 %; 1 % needs ceil(ln 0.01 / ln(1 - 2.5/108.6)) = 198.
        let small = try #require(LiSSASolver.truncationWarning(steps: 3, damping: 2.5, scale: 108.6, relativeResidual: 0.84))
        #expect(small.contains("up to 93%") && small.contains("--lissa-depth 198 "), "\(small)")
        #expect(LiSSASolver.truncationWarning(steps: 169, damping: 2.5, scale: 50, relativeResidual: 0.1) == nil, "the real data's default depth")
        #expect(LiSSASolver.truncationWarning(steps: 45, damping: 2.5, scale: 50, relativeResidual: 0.5) == nil, "0.95^45 = 0.099")
        #expect(LiSSASolver.truncationWarning(steps: 44, damping: 2.5, scale: 50, relativeResidual: 0.5) != nil, "0.95^44 = 0.105")
        #expect(LiSSASolver.truncationWarning(steps: 41, damping: 2.5, scale: 85.1, relativeResidual: 0.088) == nil,
                "the README's demo: a loose bound (29 %) with a residual at LiSSA's noise level")

        let (objective, validation) = TestProblems.random()
        let v = objective.meanGradient(on: validation)
        let truncated = try LiSSASolver(objective: objective, damping: 0.5, configuration: LiSSAConfiguration(scale: .auto, depth: 2)).solve(v)
        let warning = try #require(truncated.report.truncationWarning)
        let depthText = try #require(warning.components(separatedBy: "--lissa-depth ").last?.split(separator: " ").first)
        let depth = try #require(Int(depthText))
        let converged = try LiSSASolver(objective: objective, damping: 0.5, configuration: LiSSAConfiguration(scale: .auto, depth: depth)).solve(v)
        #expect(converged.report.truncationWarning == nil)
        #expect(converged.report.relativeResidual < truncated.report.relativeResidual / 2,
                "residual \(truncated.report.relativeResidual) at depth 2, \(converged.report.relativeResidual) at \(depth)")
        let exact = try ExactSolver(objective: objective, damping: 0.5).solve(v)
        #expect(Linalg.cosine(converged.solution, exact.solution) > Linalg.cosine(truncated.solution, exact.solution))
    }

    /// Field case 08: CG stopped by its iteration cap above its tolerance throws (as LiSSA and the exact
    /// solve refuse their bad settings), giving the residual and the damping fix; converged, it does not.
    @Test func unconvergedConjugateGradientThrowsWithTheResidual() throws {
        let (objective, validation) = TestProblems.random()
        let v = objective.meanGradient(on: validation)
        do {
            _ = try ConjugateGradientSolver(objective: objective, damping: 0.01, tolerance: 1e-10, maxIterations: 2).solve(v)
            Issue.record("two CG iterations on an 18-parameter problem cannot reach 1e-10")
        } catch let InfluenceError.cgNotConverged(iterations, residual, tolerance) {
            #expect(iterations == 2 && tolerance == 1e-10 && residual > 1e-10)
            let message = "\(InfluenceError.cgNotConverged(iterations: iterations, relativeResidual: residual, tolerance: tolerance))"
            #expect(message.contains("did not converge") && message.contains("after 2 iterations") && message.contains("raise the damping"))
        }
        // Capped exactly where it converges: accepted.
        let converged = try ConjugateGradientSolver(objective: objective, damping: 0.01, tolerance: 1e-8).solve(v)
        let iterations = converged.report.iterations
        let atCap = try ConjugateGradientSolver(objective: objective, damping: 0.01, tolerance: 1e-8, maxIterations: iterations).solve(v)
        #expect(atCap.report.relativeResidual <= 1e-8)
    }

    @Test func nonFiniteInputGivesATypedError() throws {
        let (objective, _) = TestProblems.random()
        var v = TestProblems.vector(objective.parameterCount, seed: 5)
        v[2] = .nan
        #expect(throws: InfluenceError.self) { try ConjugateGradientSolver(objective: objective).solve(v) }
        #expect(throws: InfluenceError.self) { try LiSSASolver(objective: objective).solve(v) }
        #expect(throws: InfluenceError.self) { try ExactSolver(objective: objective).solve(v) }
    }
}

@Suite struct SolverInvarianceTests {
    /// The exact solution does not depend on the BLAS thread count (to rounding).
    @Test func exactSolveIsIndependentOfThreadCount() throws {
        let (objective, validation) = TestProblems.random(n: 60, d: 12)
        let v = objective.meanGradient(on: validation)
        let one = try ExactSolver(objective: objective, damping: 0.5, threads: 1).solve(v).solution
        let two = try ExactSolver(objective: objective, damping: 0.5, threads: 2).solve(v).solution
        #expect(Linalg.relativeDistance(one, from: two) < InfluenceTolerance.doubleRounding)
    }

    /// Influence scores are the negated dots with the exact solution, for every point.
    @Test func upweightingScoresAreNegatedGradientDots() throws {
        let (objective, validation) = TestProblems.random()
        let solver = try ExactSolver(objective: objective, damping: 1)
        let influence = try upweightingInfluence(objective: objective, validation: validation, solver: solver)
        let gradients = objective.perSampleGradients(samples: Array(0..<objective.trainingCount))
        let direct = gradients.map { -Linalg.dot(solver.factor.solve(objective.meanGradient(on: validation)), $0) }
        #expect(TestProblems.relativeMaxError(influence.scores, direct) < InfluenceTolerance.doubleRounding)
    }
}
