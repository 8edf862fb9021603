import Foundation
import Testing
@testable import Experiments
import RobustTraining

@Suite struct ResultTableTests {
    /// An evaluation with `correct` of 10 right (class 0 always; the errors predicted as class 1).
    func evaluation(correct: Int) -> Evaluation {
        let labels = [Int](repeating: 0, count: 10)
        let predictions = (0..<10).map { $0 < correct ? 0 : 1 }
        return Evaluation(predictions: predictions, labels: labels, losses: [Double](repeating: 0.5, count: 10), classes: 3)
    }

    func epoch(_ n: Int, val: Int, test: Int) -> EpochMetrics {
        EpochMetrics(epoch: n, trainLoss: 1, trainAccuracy: 0.5, validation: evaluation(correct: val),
                     test: [TestEvaluation(rho: 0, evaluation: evaluation(correct: test))], seconds: 1, imagesPerSecond: 10)
    }

    /// table.json: a single seed's std is null (it had been 0, read as "no spread"), two seeds' the sample std; both
    /// read back.
    @Test func aSingleSeedHasNoStandardDeviationInJSON() throws {
        let one = SeedStatistic(values: [0.8], seeds: [5]), two = SeedStatistic(values: [0.8, 0.9], seeds: [1, 2])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let oneText = String(decoding: try encoder.encode(one), as: UTF8.self)
        let twoText = String(decoding: try encoder.encode(two), as: UTF8.self)
        #expect(oneText.contains("\"std\":null"), "\(oneText)")
        #expect(!twoText.contains("null") && abs(two.std - 0.1 / 2.0.squareRoot()) < 1e-12, "\(twoText)")
        #expect(try JSONDecoder().decode(SeedStatistic.self, from: Data(oneText.utf8)) == one)
        #expect(try JSONDecoder().decode(SeedStatistic.self, from: Data(twoText.utf8)) == two)
    }

    @Test func picksLastValidationSelectedAndBestEpochs() {
        // Validation peaks at epoch 2 (test 6); test peaks at epoch 3 (9); last epoch test is 7.
        let run = RunSummaryInput(method: "naive", noise: "gaussian", seed: 1,
                                  epochs: [epoch(1, val: 5, test: 5), epoch(2, val: 9, test: 6),
                                           epoch(3, val: 8, test: 9), epoch(4, val: 9, test: 7)],
                                  trainSeconds: 12)
        let rows = ResultTable.rows([run])
        #expect(rows.count == 1)
        #expect(rows[0].lastEpochAccuracy.values == [0.7])
        #expect(rows[0].validationSelectedAccuracy.values == [0.6])
        #expect(rows[0].bestTestEpochAccuracy.values == [0.9])
        #expect(rows[0].confusion[0] == [7, 3, 0])
        #expect(rows[0].recallPerClass[0] == 0.7)
        // A single run has no spread: its value alone, not "± 0.00"; the CSV leaves the std empty.
        let markdown = TableRendering.markdown(rows: rows, comparisons: [], showPaper: false)
        #expect(markdown.contains("| naive | gaussian | 0 | 1 | **70.00** | 40.0 | 60.00 | 90.00 |"), "\(markdown)")
        // The headline's dependence on where training stopped: test 50..90% over the (four) last epochs.
        #expect(abs((rows[0].lastEpochsRange?.values.first ?? 0) - 0.4) < 1e-12)
        #expect(TableRendering.csv(rows: rows).contains("naive,gaussian,0,1,0.7000,,0.6000,,0.9000,,"))
    }

    @Test func pairsComparisonsBySeedAndFlagsNoise() {
        var runs: [RunSummaryInput] = []
        // ISP right on 9, 9, 10, 9, 10 of 10; naive on 7, 8, 7, 8, 8: differences 2, 1, 3, 1, 2 (mean 0.18).
        for (seed, (isp, naive)) in [(9, 7), (9, 8), (10, 7), (9, 8), (10, 8)].enumerated() {
            runs.append(RunSummaryInput(method: "isp", noise: "gaussian", seed: UInt64(seed + 1), epochs: [epoch(1, val: 5, test: isp)], trainSeconds: 1))
            runs.append(RunSummaryInput(method: "naive", noise: "gaussian", seed: UInt64(seed + 1), epochs: [epoch(1, val: 5, test: naive)], trainSeconds: 1))
        }
        let rows = ResultTable.rows(runs)
        let comparisons = ResultTable.comparisons(rows, reference: "naive")
        #expect(comparisons.count == 1)
        #expect(comparisons[0].pairs == 5)
        #expect(abs(comparisons[0].meanDifference - 0.18) < 1e-12)
        #expect(comparisons[0].withinNoise == false)
        #expect(comparisons[0].signFlipP == 2.0 / 32.0)
        let markdown = TableRendering.markdown(rows: rows, comparisons: comparisons, showPaper: true)
        #expect(markdown.contains("| isp | gaussian | 0 | 5 | **94.00 ± 5.48** |"))
        #expect(markdown.contains("89.52 ± 2.61"))
        let csv = TableRendering.csv(rows: rows)
        #expect(csv.split(separator: "\n").count == 3)
    }

    /// Accuracies count whole images, so a few seeds can repeat one difference exactly. Then the t-test's spread is
    /// 0 and its p 0 whatever the number of seeds: the exact sign-flip test decides. Three seeds one image apart each
    /// (sign-flip p = 2/8) stay within seed noise; six (2/64) are a difference.
    @Test(arguments: [(3, true), (6, false)])
    func identicalDifferencesAreJudgedByTheSignFlipTest(seeds: Int, withinNoise: Bool) {
        var runs: [RunSummaryInput] = []
        for seed in 1...seeds {
            runs.append(RunSummaryInput(method: "isr", noise: "gaussian", seed: UInt64(seed), epochs: [epoch(1, val: 5, test: 8)], trainSeconds: 1))
            runs.append(RunSummaryInput(method: "naive", noise: "gaussian", seed: UInt64(seed), epochs: [epoch(1, val: 5, test: 9)], trainSeconds: 1))
        }
        let rows = ResultTable.rows(runs)
        let c = ResultTable.comparisons(rows, reference: "naive")[0]
        #expect(c.tTestP == 0 && c.differenceStd == 0 && c.differencesHaveNoSpread)
        #expect(c.signFlipP == 2 / Double(1 << seeds))
        #expect(c.withinNoise == withinNoise)
        let markdown = TableRendering.markdown(rows: rows, comparisons: [c], showPaper: false)
        let verdict = withinNoise ? "within seed noise" : "worse"
        #expect(markdown.contains("| \(verdict) (every seed the same difference: by the sign-flip test) | undefined (no spread) |"), "\(markdown)")
    }

    /// Runs shorter than five epochs say how many their range spans (the column read "last 5 epochs" over 2).
    @Test func theRangeColumnNamesTheEpochsItSpans() {
        let short = RunSummaryInput(method: "naive", noise: "gaussian", seed: 1, epochs: [epoch(1, val: 5, test: 5), epoch(2, val: 9, test: 8)],
                                    trainSeconds: 2)
        let rows = ResultTable.rows([short])
        #expect(rows[0].lastEpochsRangeSpan == 2)
        #expect(TableRendering.markdown(rows: rows, comparisons: [], showPaper: false).contains("| range over last 2 epochs |"))
        let long = RunSummaryInput(method: "isr", noise: "gaussian", seed: 1, epochs: (1...7).map { epoch($0, val: 5, test: 5) }, trainSeconds: 7)
        #expect(TableRendering.rangeHeading(ResultTable.rows([long])) == "range over last 5 epochs")
        #expect(TableRendering.rangeHeading(ResultTable.rows([long, short])) == "range over last 5 epochs (2 in the shortest runs)")
        let single = ResultTable.rows([RunSummaryInput(method: "naive", noise: "gaussian", seed: 1, epochs: [epoch(1, val: 5, test: 5)], trainSeconds: 1)])
        #expect(TableRendering.markdown(rows: single, comparisons: [], showPaper: false).contains("| **50.00** | – |"))
    }

    /// The title names what ran (`--preset paper --recipe stable` was titled `paper`), and the bars start at 0.
    @Test func theTitleNamesThePresetAndTheRecipeAndTheBarsStartAtZero() {
        var paper = CompareConfiguration.paper()
        #expect(paper.title == "paper preset, paper recipe")
        paper.base.training.recipe = .stable
        #expect(paper.title == "paper preset, stable recipe" && paper.changesFromPreset.isEmpty)
        var quick = CompareConfiguration.quick()
        quick.base.training.epochs = 2
        #expect(quick.title == "quick preset, stable recipe, other settings changed")
        #expect(quick.changesFromPreset.map(\.path).contains("training.epochs"))

        let run = RunSummaryInput(method: "naive", noise: "gaussian", seed: 1, epochs: [epoch(1, val: 5, test: 6)], trainSeconds: 1)
        #expect(ComparisonFigures.accuracyBars(rows: ResultTable.rows([run]), methods: ["naive"]).valueRange == 0...100)
    }
}
