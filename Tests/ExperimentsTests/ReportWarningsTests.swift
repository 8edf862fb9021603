import Foundation
import Testing
@testable import Experiments
import RobustTraining

/// Warnings raised while training reach the comparison's table.md and report, once per kind and run.
@Suite struct ReportWarningsTests {
    static func epoch(_ number: Int, warnings: [String]?) -> EpochMetrics {
        let evaluation = Evaluation(predictions: [0], labels: [0], losses: [0.1], classes: 3)
        var m = EpochMetrics(epoch: number, trainLoss: 1, trainAccuracy: 1, validation: evaluation, test: [], seconds: 1, imagesPerSecond: 1)
        m.warnings = warnings
        return m
    }

    @Test func eachKindOnceWithItsCountAndTheEarlyStop() {
        let settings = RunSettings(data: DataSettings(), training: TrainingConfiguration(method: .at))
        let collapse = "every validation image is called class 1 at epoch %d: the model has collapsed to one class"
        var record = RunRecord(id: "at-gaussian-seed1", settings: settings,
                               epochs: [Self.epoch(1, warnings: [String(format: collapse, 1)]), Self.epoch(2, warnings: [String(format: collapse, 2)]),
                                        Self.epoch(3, warnings: nil),
                                        Self.epoch(4, warnings: ["catastrophic overfitting at epoch 4: PGD robust accuracy fell"])],
                               trainSeconds: 1, totalSeconds: 1, testFold: 5, dataSummary: "", machine: .current(), finishedAt: Date(),
                               toolVersion: ToolVersion.current, noiseName: "gaussian", resumedAfterEpoch: nil)
        record.earlyStop = EarlyStop(detectedAtEpoch: 4, keptEpoch: 2)
        let lines = ComparisonReport.warnings([record])
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("at-gaussian-seed1: every validation image is called class 1 at epoch 1") && lines[0].hasSuffix("(2 epochs in all)"))
        #expect(lines[1].contains("catastrophic overfitting at epoch 4") && !lines[1].contains("epochs in all"))
        #expect(lines[2].contains("epoch 2 are its final ones"))
        // The early stop's kept epoch is the run's final one in the tables.
        #expect(record.final?.epoch == 2)
    }
}
