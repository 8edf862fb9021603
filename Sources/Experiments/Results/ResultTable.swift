import RobustTraining

/// One finished run as the tables see it.
public struct RunSummaryInput: Sendable {
    public var method: String
    public var noise: String
    public var seed: UInt64
    public var epochs: [EpochMetrics]
    public var trainSeconds: Double
    /// Set when the run stopped early and kept an earlier epoch's weights: that epoch is its final one.
    public var earlyStop: EarlyStop?

    public init(method: String, noise: String, seed: UInt64, epochs: [EpochMetrics], trainSeconds: Double,
                earlyStop: EarlyStop? = nil) {
        self.method = method
        self.noise = noise
        self.seed = seed
        self.epochs = epochs
        self.trainSeconds = trainSeconds
        self.earlyStop = earlyStop
    }

    /// The metrics of the weights the run ended with.
    public var finalEpoch: EpochMetrics? {
        if let kept = earlyStop?.keptEpoch, epochs.indices.contains(kept - 1) { return epochs[kept - 1] }
        return epochs.last
    }
}

/// Mean and sample standard deviation over seeds of one quantity, with the per-seed values kept
/// (paired tests need them, keyed by seed).
public struct SeedStatistic: Codable, Sendable, Equatable {
    public var mean: Double
    public var std: Double
    public var values: [Double]
    public var seeds: [UInt64]

    public init(values: [Double], seeds: [UInt64]) {
        self.values = values
        self.seeds = seeds
        mean = Statistics.mean(values)
        std = Statistics.standardDeviation(values)
    }

    private enum CodingKeys: String, CodingKey { case mean, std, values, seeds }

    /// `std` is written as null for fewer than two seeds: a sample standard deviation needs two, and a 0 there read as
    /// "no spread" (table.csv leaves the cell empty, table.md shows the value alone).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mean, forKey: .mean)
        if values.count < 2 { try c.encodeNil(forKey: .std) } else { try c.encode(std, forKey: .std) }
        try c.encode(values, forKey: .values)
        try c.encode(seeds, forKey: .seeds)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mean = try c.decode(Double.self, forKey: .mean)
        std = try c.decodeIfPresent(Double.self, forKey: .std) ?? 0
        values = try c.decode([Double].self, forKey: .values)
        seeds = try c.decode([UInt64].self, forKey: .seeds)
    }
}

/// Table 1 for one (method, noise, rho) cell group: the three ways of picking the reported epoch, the
/// per-class metrics at the last epoch, and time.
public struct ResultRow: Codable, Sendable, Equatable {
    public var method: String
    public var noise: String
    public var rho: Double
    public var runs: Int
    /// Test accuracy at the last epoch: the headline.
    public var lastEpochAccuracy: SeedStatistic
    /// Test accuracy at the epoch with the best validation accuracy (the earliest among ties).
    public var validationSelectedAccuracy: SeedStatistic
    /// Best test accuracy over all epochs, as the authors' code reported it (optimistic: it peeks at the test set).
    public var bestTestEpochAccuracy: SeedStatistic
    public var macroF1: SeedStatistic
    /// Mean recall per class at the last epoch.
    public var recallPerClass: [Double]
    /// Confusion matrix at the last epoch, summed over seeds.
    public var confusion: [[Int]]
    public var trainSeconds: SeedStatistic
    /// Per seed, the range (max - min) of the test accuracy over the last `lastEpochsRangeSpan` epochs (five, fewer in
    /// shorter runs): how settled the headline is.
    public var lastEpochsRange: SeedStatistic?
    /// The epochs `lastEpochsRange` spans: `ResultTable.rangeEpochs`, or all of the shortest run's when it has fewer.
    public var lastEpochsRangeSpan: Int
    /// With `--bn-statistics clean-validation`: the last epoch's accuracy with the clean share classified under
    /// statistics of the clean validation images (test-time adaptation), beside the headline.
    public var adaptedLastEpochAccuracy: SeedStatistic?
    /// Adversarial training: PGD robust accuracy on the validation set at the last epoch.
    public var robustAccuracy: SeedStatistic?
}

/// A paired comparison of a method against a reference method over the seeds both have.
public struct PairedComparison: Codable, Sendable, Equatable {
    public var method: String
    public var reference: String
    public var noise: String
    public var rho: Double
    public var pairs: Int
    public var meanDifference: Double
    public var tTestP: Double?
    public var signFlipP: Double?
    /// True when the difference is not distinguishable from seed noise at the 5% level by the t-test (by the sign-flip
    /// test where the differences have no spread, `differencesHaveNoSpread`).
    public var withinNoise: Bool
    /// Standard deviation of the paired differences.
    public var differenceStd: Double?
    /// Seeds a paired t-test needs to detect the observed mean difference at the observed paired spread with power
    /// 0.8 at alpha 0.05 (nil: no difference, or too few pairs to estimate the spread, or more than 10,000).
    public var seedsNeeded: Int?

    /// Every pair differs by the same nonzero amount (accuracies count whole images, so few seeds can repeat one
    /// difference exactly): the t-test's spread is 0 and its p of 0 says nothing, so the exact sign-flip test decides
    /// `withinNoise` (it cannot go below 2/2^n: with 5 seeds or fewer such a difference stays within seed noise).
    public var differencesHaveNoSpread: Bool { differenceStd == 0 && meanDifference != 0 }

    /// The verdict as the tables print it.
    public var verdict: String {
        if pairs < 2 { return "too few seeds to tell" }
        let call = withinNoise ? "within seed noise" : (meanDifference > 0 ? "better" : "worse")
        return differencesHaveNoSpread ? call + " (every seed the same difference: by the sign-flip test)" : call
    }
}

public enum ResultTable {
    /// The last epochs whose range (max - min of the test accuracy) says how settled a run's headline is.
    public static let rangeEpochs = 5

    /// One row per (method, noise, rho), in the order methods and noises first appear in `runs`.
    public static func rows(_ runs: [RunSummaryInput]) -> [ResultRow] {
        var keys: [(String, String, Double)] = []
        for run in runs {
            guard let last = run.finalEpoch else { continue }
            for t in last.test where !keys.contains(where: { $0.0 == run.method && $0.1 == run.noise && $0.2 == t.rho }) {
                keys.append((run.method, run.noise, t.rho))
            }
        }
        return keys.map { key in
            let group = runs.filter { $0.method == key.0 && $0.noise == key.1 && !$0.epochs.isEmpty }
                .sorted { $0.seed < $1.seed }
            return row(method: key.0, noise: key.1, rho: key.2, runs: group)
        }
    }

    static func row(method: String, noise: String, rho: Double, runs: [RunSummaryInput]) -> ResultRow {
        var last: [Double] = [], selected: [Double] = [], best: [Double] = [], f1: [Double] = []
        var seconds: [Double] = [], seeds: [UInt64] = []
        var recallSums: [Double] = []
        var confusion: [[Int]] = []
        var ranges: [Double] = [], adapted: [Double] = [], robust: [Double] = []
        var span = rangeEpochs
        for run in runs {
            func testAt(_ m: EpochMetrics) -> Evaluation? { m.test.first { $0.rho == rho }?.evaluation }
            guard let lastEpoch = run.finalEpoch, let lastTest = testAt(lastEpoch) else { continue }
            seeds.append(run.seed)
            let finalIndex = run.epochs.firstIndex { $0.epoch == lastEpoch.epoch } ?? (run.epochs.count - 1)
            let window = run.epochs[Swift.max(0, finalIndex - (rangeEpochs - 1))...finalIndex].compactMap { testAt($0)?.accuracy }
            ranges.append((window.max() ?? 0) - (window.min() ?? 0))
            span = Swift.min(span, window.count)
            if let value = lastEpoch.adaptedTest?.first(where: { $0.rho == rho })?.evaluation.accuracy { adapted.append(value) }
            if let value = lastEpoch.robust?.pgd { robust.append(value) }
            last.append(lastTest.accuracy)
            f1.append(lastTest.macroF1)
            seconds.append(run.trainSeconds)
            var chosen = run.epochs[0]
            for m in run.epochs where m.validation.accuracy > chosen.validation.accuracy { chosen = m }
            selected.append(testAt(chosen)?.accuracy ?? .nan)
            best.append(run.epochs.compactMap { testAt($0)?.accuracy }.max() ?? .nan)
            let recall = lastTest.recall
            if recallSums.isEmpty { recallSums = recall } else { recallSums = zip(recallSums, recall).map { $0 + $1 } }
            if confusion.isEmpty {
                confusion = lastTest.confusion
            } else {
                for i in confusion.indices { for j in confusion[i].indices { confusion[i][j] += lastTest.confusion[i][j] } }
            }
        }
        return ResultRow(
            method: method, noise: noise, rho: rho, runs: seeds.count,
            lastEpochAccuracy: SeedStatistic(values: last, seeds: seeds),
            validationSelectedAccuracy: SeedStatistic(values: selected, seeds: seeds),
            bestTestEpochAccuracy: SeedStatistic(values: best, seeds: seeds),
            macroF1: SeedStatistic(values: f1, seeds: seeds),
            recallPerClass: recallSums.map { $0 / Double(max(seeds.count, 1)) },
            confusion: confusion,
            trainSeconds: SeedStatistic(values: seconds, seeds: seeds),
            lastEpochsRange: SeedStatistic(values: ranges, seeds: seeds), lastEpochsRangeSpan: span,
            adaptedLastEpochAccuracy: adapted.count == seeds.count && !adapted.isEmpty ? SeedStatistic(values: adapted, seeds: seeds) : nil,
            robustAccuracy: robust.count == seeds.count && !robust.isEmpty ? SeedStatistic(values: robust, seeds: seeds) : nil)
    }

    /// Every method against `reference` (for example "naive") on the last-epoch accuracy, paired by seed.
    public static func comparisons(_ rows: [ResultRow], reference: String) -> [PairedComparison] {
        rows.compactMap { row in
            guard row.method != reference,
                  let base = rows.first(where: { $0.method == reference && $0.noise == row.noise && $0.rho == row.rho })
            else { return nil }
            var a: [Double] = [], b: [Double] = []
            for (seed, value) in zip(row.lastEpochAccuracy.seeds, row.lastEpochAccuracy.values) {
                if let j = base.lastEpochAccuracy.seeds.firstIndex(of: seed) {
                    a.append(value)
                    b.append(base.lastEpochAccuracy.values[j])
                }
            }
            let t = Statistics.pairedTTest(a, b)
            let differences = zip(a, b).map { $0 - $1 }
            let sd = differences.count >= 2 ? Statistics.standardDeviation(differences) : nil
            let needed = sd.flatMap { sd in sd > 0 ? Statistics.pairsNeeded(effectSize: Statistics.mean(differences) / sd) : nil }
            let meanDifference = a.isEmpty ? 0 : Statistics.mean(differences)
            let signFlip = a.isEmpty ? nil : Statistics.signFlipTest(a, b)
            // Without spread the t-test's p is 0 whatever the number of seeds: the sign-flip test decides there.
            let deciding = sd == 0 && meanDifference != 0 ? signFlip : t?.p
            return PairedComparison(
                method: row.method, reference: reference, noise: row.noise, rho: row.rho, pairs: a.count,
                meanDifference: meanDifference, tTestP: t?.p, signFlipP: signFlip,
                withinNoise: (deciding ?? 1) >= 0.05, differenceStd: sd, seedsNeeded: needed)
        }
    }
}
