import Testing
import Tensor
@testable import Influence

@Suite struct LeaveOneOutTests {
    @Test func influencePredictsLeaveOneOutRetraining() throws {
        let problem = SyntheticFeatureProblem.gaussianClusters(trainingCount: 300, featureCount: 32, seed: 0)
        let report = try LeaveOneOutCheck.run(training: problem.training, validation: problem.validation,
                                              classCount: problem.classCount,
                                              configuration: LeaveOneOutConfiguration(damping: 0.01, pointCount: 40))
        #expect(report.fitGradientNorm <= 1e-10 && report.retrainGradientNorm <= 1e-10)
        #expect(report.pearson >= 0.95, "pearson \(report.pearson), spearman \(report.spearman)")
        #expect(report.spearman >= 0.9)
        #expect(report.cgRelativeError < InfluenceTolerance.exactVersusCG)
        #expect(report.lissaCosine.isFinite)
        // Sign convention: removing the point with the largest positive I_up (most harmful) lowers the
        // validation loss, and removing the most helpful one raises it.
        let harmful = try #require(report.predicted.indices.min { report.predicted[$0] < report.predicted[$1] })
        let helpful = try #require(report.predicted.indices.max { report.predicted[$0] < report.predicted[$1] })
        #expect(report.predicted[harmful] < 0 && report.actual[harmful] < 0)
        #expect(report.predicted[helpful] > 0 && report.actual[helpful] > 0)
        #expect(report.signAgreement >= 0.9)
    }

    @Test func correlationsOfKnownSamples() {
        #expect(abs(Correlation.pearson([1, 2, 3, 4], [2, 4, 6, 8]) - 1) < 1e-12)
        #expect(abs(Correlation.spearman([1, 2, 3, 4], [1, 4, 9, 100]) - 1) < 1e-12)
        #expect(abs(Correlation.spearman([1, 2, 3], [3, 2, 1]) + 1) < 1e-12)
        #expect(Correlation.ranks([5, 1, 5, 0]) == [3.5, 2, 3.5, 1])
    }
}
