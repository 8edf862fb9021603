import Foundation
import RobustTraining

/// What one finished run leaves: its full settings, per-epoch curves and timings. Stored as `result.json`
/// in a run's directory and as `runs/<id>.json` in a comparison's store.
public struct RunRecord: Codable, Sendable {
    public var id: String
    public var settings: RunSettings
    public var epochs: [EpochMetrics]
    public var trainSeconds: Double
    /// Wall time of the whole run (data preparation, training, evaluation, writing). For a resumed run:
    /// the last process's wall time plus the training time of the epochs finished before it.
    public var totalSeconds: Double
    /// The test fold; 0 when the data has no folds and the test set is a held-out share (`dataSummary` says which).
    public var testFold: Int
    public var dataSummary: String
    public var machine: MachineInfo
    public var finishedAt: Date
    /// Version of the tool that made the record.
    public var toolVersion: String
    /// The grid's name of the run's noise (set by `compare`).
    public var noiseName: String?
    /// The epoch after which the run was resumed (nil: it ran in one go). Its times then include
    /// whatever happened to the interrupted process (an epoch paused or slowed before it was stopped).
    public var resumedAfterEpoch: Int?
    /// Set when adversarial training stopped at catastrophic overfitting and kept an earlier epoch's weights.
    public var earlyStop: EarlyStop?

    public var method: String { settings.training.method.rawValue }
    public var seed: UInt64 { settings.training.seed }

    /// The record as the tables read it.
    public var summaryInput: RunSummaryInput {
        RunSummaryInput(method: method, noise: noiseName ?? settings.data.noise.description, seed: seed, epochs: epochs,
                        trainSeconds: trainSeconds, earlyStop: earlyStop)
    }

    /// The metrics of the weights the run ended with: the last epoch's, or the kept epoch's after an early stop.
    public var final: EpochMetrics? { summaryInput.finalEpoch }
}

public enum ToolVersion {
    public static let current = "0.1.0"
}
