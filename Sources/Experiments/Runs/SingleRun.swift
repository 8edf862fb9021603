import Foundation
import NN
import RobustTraining
import Tensor

/// One training run with its files. In `directory`: `config.json` (the settings), `metrics.jsonl` (one
/// line per epoch, rewritten atomically after each), `checkpoint.safetensors` (everything needed to
/// resume, after each epoch), and at the end `model.safetensors` (loadable in PyTorch), for N2V runs `denoiser.safetensors`, and
/// `result.json`.
public struct SingleRun {
    public let settings: RunSettings
    public let directory: String?

    public struct Outcome {
        public var record: RunRecord
        public var state: TrainingState
        public var method: AnyTrainingMethod
        public var data: TrainingData
    }

    /// What a run does with the directory it writes to.
    public enum Resumption: Sendable {
        /// Start afresh, and refuse a directory that already holds a run (`train` without --resume).
        case refuse
        /// Continue the checkpoint there, if any; else start from epoch 1 without a word (a grid's runs: most start afresh).
        case continueIfPresent
        /// Continue the checkpoint there; without one, say that none was found and start from epoch 1, so the same
        /// command serves a first start and a restart (`train --resume`). A finished run without its checkpoint is refused.
        case requested
    }

    public enum RunError: Error, CustomStringConvertible {
        case existingRun(String)
        /// --resume on a finished run whose checkpoint is gone: training again would overwrite its results.
        case finishedWithoutCheckpoint(String)
        /// --resume with settings other than the stored run's (config.json), threads aside: each one, stored and now,
        /// and why the influence settings among them cannot change (`ResumeRule`), if they are.
        case differentSettings(directory: String, differences: [SettingDifference], note: String?)
        public var description: String {
            switch self {
            case .existingRun(let directory):
                return "\(directory) already holds a run: pass --resume to continue it, or choose another --out directory"
            case .finishedWithoutCheckpoint(let directory):
                return "\(directory) holds a finished run (result.json) but no checkpoint.safetensors to resume from, and training "
                    + "again would overwrite its results: choose another --out directory (or delete \(directory) to train it again)"
            case let .differentSettings(directory, differences, note):
                return """
                    cannot resume \(directory): \(differences.count) setting(s) differ from its config.json:
                    \(SettingDifference.lines(differences))
                    \(note.map { $0 + "\n" } ?? "")give the options that set the stored values (or leave out those that changed them), or use another --out directory
                    """
            }
        }
    }

    /// Refuses to resume the run in `directory` when its config.json holds other settings than `settings` (threads and
    /// the cache folder aside: they change the speed, not the run; the influence settings while the checkpoint's
    /// `completedEpochs` have not reached the influence step: `ResumeRule`). Returns the influence settings that
    /// changed and are accepted. A run without a readable config.json is left to the checkpoint's own check.
    static func checkResumable(_ settings: RunSettings, directory: String, completedEpochs: Int) throws -> [SettingDifference] {
        guard let bytes = try AtomicFile.read("\(directory)/config.json"),
              var stored = try? JSONCoding.decoder.decode(RunSettings.self, from: Data(bytes)) else { return [] }
        var given = settings
        stored.training.threads = given.training.threads
        stored.data.cacheDirectory = given.data.cacheDirectory
        // A config.json written before the reading settings existed read images the default way.
        stored.data.reading = stored.data.imageReading
        given.data.reading = given.data.imageReading
        let differences = SettingDifference.between(stored, given)
        let hasRun = ResumeRule.influenceStepHasRun(stored.training, completedEpochs: completedEpochs)
        let refused = ResumeRule.refused(differences, trainingPrefix: "training", influenceStepHasRun: hasRun)
        if !refused.isEmpty {
            let influenceRefused = hasRun && refused.contains { ResumeRule.isInfluenceSetting($0, trainingPrefix: "training") }
            var notes: [String] = []
            if influenceRefused { notes.append(ResumeRule.passedNote(stored.training, completedEpochs: completedEpochs)) }
            if refused.contains(where: { $0.path == "training.epochs" }) {
                // A run is trained for its length: the schedule's decay and T follow from --epochs (not a setting to extend).
                notes.append("a run's --epochs cannot change when it resumes: its learning-rate schedule (\(stored.training.recipe.learningRateSchedule.rawValue)) "
                    + "and the switch epoch T were set by it, so its \(completedEpochs) trained epoch(s) belong to a \(stored.training.epochs)-epoch run "
                    + "(T and warm-up changes listed with it follow from --epochs); for a longer run, train anew into another --out directory")
            }
            throw RunError.differentSettings(directory: directory, differences: refused,
                                             note: notes.isEmpty ? nil : notes.joined(separator: "\n"))
        }
        return differences
    }

    public init(settings: RunSettings, directory: String?) {
        self.settings = settings
        self.directory = directory
    }

    var checkpointPath: String? { directory.map { "\($0)/checkpoint.safetensors" } }

    /// Trains (or, as `resumption` says, continues) the run on `data`, writing its files as it goes.
    public func execute(data: ExperimentData, id: String, resumption: Resumption,
                        observer: any TrainingObserver = SilentObserver()) throws -> Outcome {
        let started = Date()
        let trainer = Trainer(configuration: settings.training)
        let trainingData = try data.trainingData(settings)
        var method = try TrainingMethods.make(for: settings.training)
        var state = try trainer.initialState(data: trainingData)
        var resumedAfterEpoch: Int?
        if let directory, let checkpointPath {
            let exists = FileManager.default.fileExists(atPath: checkpointPath)
            let finished = FileManager.default.fileExists(atPath: "\(directory)/result.json")
            switch resumption {
            case .refuse where exists || finished:
                throw RunError.existingRun(directory)
            case .requested where !exists && finished:
                throw RunError.finishedWithoutCheckpoint(directory)
            case .requested where !exists:
                observer.message("no checkpoint found at \(checkpointPath): nothing to resume, so training starts from epoch 1")
            default:
                break
            }
            var changed: [SettingDifference] = []
            if exists {
                let completed = try TrainingCheckpoint.completedEpochs(at: checkpointPath)
                changed = try Self.checkResumable(settings, directory: directory, completedEpochs: completed)
            }
            try Self.writeJSON(settings, to: "\(directory)/config.json")
            if exists {
                state = try TrainingCheckpoint.load(from: checkpointPath, configuration: settings.training,
                                                    fresh: state, method: &method)
                observer.message("resuming \(directory) after epoch \(state.completedEpochs) of \(settings.training.epochs)"
                                 + (changed.isEmpty ? "" : ", with influence settings changed before the influence step:\n"
                                    + SettingDifference.lines(changed)))
                resumedAfterEpoch = state.completedEpochs
            }
        }
        let trainSecondsBefore = state.trainSeconds
        let originalImages = trainingData.train.images
        let configuration = settings.training
        try trainer.run(data: trainingData, method: &method, state: &state, observer: observer) { state, method in
            guard let directory, let checkpointPath else { return }
            try TrainingCheckpoint.save(state, method: method, configuration: configuration,
                                        originalTrainImages: originalImages, to: checkpointPath)
            try Self.writeMetrics(state.history, to: "\(directory)/metrics.jsonl")
        }
        var record = RunRecord(
            id: id, settings: settings, epochs: state.history, trainSeconds: state.trainSeconds,
            totalSeconds: trainSecondsBefore + Date().timeIntervalSince(started), testFold: data.testFold,
            dataSummary: data.summary, machine: .current(), finishedAt: Date(), toolVersion: ToolVersion.current,
            noiseName: nil)
        record.resumedAfterEpoch = resumedAfterEpoch
        record.earlyStop = state.earlyStop
        if let directory {
            // The weights and statistics that were evaluated: averaged weights, precise statistics (recipe).
            let models = state.lastEvaluationModels ?? trainer.evaluationModels(state: state, data: trainingData, method: method)
            // An n2v model says so, so that evaluate and predict refuse to skip its denoiser silently.
            let input = settings.training.method == .n2v ? ModelCheckpoint.denoisedInput : nil
            try ModelCheckpoint.save(models.model, to: "\(directory)/model.safetensors", trainedInput: input)
            if let adapted = models.cleanAdapted {
                try ModelCheckpoint.save(adapted, to: "\(directory)/\(Self.cleanAdaptedModelFileName)", trainedInput: input)
            }
            // What the model is used through (an N2V model classifies denoised images) goes beside it.
            for artifact in method.modelArtifacts() {
                try artifact.write("\(directory)/\(artifact.fileName)")
            }
            try Self.writeJSON(record, to: "\(directory)/result.json")
        }
        return Outcome(record: record, state: state, method: method, data: trainingData)
    }

    /// The same weights with BatchNorm statistics of the clean validation images (`--bn-statistics clean-validation`),
    /// for classifying clean images with test-time adaptation.
    public static let cleanAdaptedModelFileName = "model-clean-adapted.safetensors"

    static func writeJSON<Value: Encodable>(_ value: Value, to path: String) throws {
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(value)), to: path)
    }

    static func writeMetrics(_ history: [EpochMetrics], to path: String) throws {
        let encoder = JSONCoding.compactEncoder
        var text = ""
        for m in history { text += String(decoding: try encoder.encode(m), as: UTF8.self) + "\n" }
        try AtomicFile.write(text, to: path)
    }
}

/// The package's JSON conventions: sorted keys, ISO-8601 dates, non-finite numbers as strings.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.dateEncodingStrategy = .iso8601
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static var compactEncoder: JSONEncoder {
        let e = encoder
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }
}
