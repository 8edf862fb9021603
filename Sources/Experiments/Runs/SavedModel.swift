import Foundation
import MRIData
import NN
import RobustTraining

/// What a safetensors file the tool wrote holds, told from its metadata (and, for run artifacts written before
/// they recorded their kind, from their tensor names), so that a command given another file of a run than its
/// model names the right one instead of running on the wrong weights or failing on a missing tensor.
public enum SavedFileKind: String, Sendable, CaseIterable {
    /// `model.safetensors` (or `model-clean-adapted.safetensors`, or a PyTorch export with `model_config`).
    case model
    /// `checkpoint.safetensors`: train's per-epoch state for `--resume` (the last step's weights, Adam's moments, ...).
    case trainingCheckpoint = "training-checkpoint"
    /// `artifacts.safetensors`: a grid run's example images and influence scores for the figures.
    case runArtifacts = "run-artifacts"
    /// `denoiser.safetensors`: an n2v run's (or `denoise`'s) Noise2Void U-Net.
    case denoiser
    /// A JSON text file, not a safetensors one: a run's `config.json` (its settings) or `result.json` (its record), a
    /// grid's `plan.json`. Told from its first bytes before any safetensors parsing (`SavedModel.read`).
    case json
    /// None of the above.
    case unknown

    /// What the file is, for messages: "train's resume checkpoint".
    public var summary: String {
        switch self {
        case .model: return "a classifier model"
        case .trainingCheckpoint: return "train's resume checkpoint"
        case .runArtifacts: return "a grid run's figure artifacts"
        case .denoiser: return "a Noise2Void denoiser"
        case .json: return "a JSON text file"
        case .unknown: return "a file with neither a model's nor a denoiser's metadata"
        }
    }

    /// The metadata key under which files without a kind of their own in their metadata record it (run artifacts).
    public static let metadataKey = "robust_mri.file_kind"

    /// The kind of `file`. A training checkpoint carries the model's metadata too, so it is recognised first.
    public init(of file: SafetensorsFile) {
        let metadata = file.metadata
        if let recorded = metadata[Self.metadataKey].flatMap(SavedFileKind.init(rawValue:)) {
            self = recorded
        } else if metadata[TrainingCheckpoint.configurationKey] != nil {
            self = .trainingCheckpoint
        } else if metadata[Noise2VoidDenoiser.configurationKey] != nil {
            self = .denoiser
        } else if metadata[ModelCheckpoint.configurationKey] != nil || metadata[ModelCheckpoint.torchConfigurationKey] != nil {
            self = .model
        } else if file["method_version"] != nil && file["noisy"] != nil {
            self = .runArtifacts
        } else {
            self = .unknown
        }
    }
}

/// A file given where a model (or a denoiser) is expected that holds something else; the message names the file
/// to pass instead.
public struct WrongFileError: Error, CustomStringConvertible {
    public var path: String
    /// What the file holds.
    public var kind: SavedFileKind
    /// What was expected: `.model` or `.denoiser`.
    public var expected: SavedFileKind

    public var description: String {
        expected == .denoiser ? notADenoiser : notAModel
    }

    private var notADenoiser: String {
        "\(path) is \(kind.summary), not a Noise2Void denoiser: pass the denoiser.safetensors of an n2v run (beside its model.safetensors) or of `robust-mri denoise`"
    }

    /// What a JSON file of a run or grid holds, by its name.
    static func jsonSummary(_ path: String) -> String {
        switch FilePaths.lastComponent(path) {
        case "config.json": return "a run's JSON settings (config.json)"
        case "result.json": return "a run's JSON record (result.json)"
        case "plan.json": return "a comparison's JSON plan (plan.json)"
        default: return SavedFileKind.json.summary
        }
    }

    private var notAModel: String {
        let folder = FilePaths.folder(of: path)
        let model = FilePaths.joining(folder, "model.safetensors")
        let modelThere = FileManager.default.fileExists(atPath: model)
        let useModel = modelThere ? "pass \(model), the model its run saved"
            : "pass a run's model.safetensors (there is none in \(folder) yet)"
        switch kind {
        case .trainingCheckpoint:
            let unfinished = modelThere ? "" : "; the run has not finished: `robust-mri train --resume --out \(folder)` with its options finishes it and writes model.safetensors"
            return "\(path) is \(kind.summary) (the last step's weights and the optimiser's state, for --resume), not the model the run evaluated (averaged weights, precise BatchNorm statistics): \(useModel)\(unfinished)"
        case .runArtifacts:
            return "\(path) holds \(kind.summary) (example images, influence scores), not a model: \(useModel)"
        case .denoiser:
            return "\(path) is \(kind.summary), not a classifier: \(useModel) (its denoiser beside it is applied first; --denoiser names another)"
        case .json:
            return "\(path) is \(Self.jsonSummary(path)), not a model (a safetensors file): \(useModel)"
        case .unknown, .model:
            return "\(path) holds no model (no \(ModelCheckpoint.configurationKey) or \(ModelCheckpoint.torchConfigurationKey) metadata): \(useModel)"
        }
    }
}

/// The one way commands read a model or a denoiser file (`evaluate`, `predict`, `influence --checkpoint`, `--denoiser`,
/// `denoise --denoiser`): after checking that the file holds what is asked for and not another file of a run.
public enum SavedModel {
    /// The model in `path` and its file (for the metadata); `WrongFileError` for any other kind of file.
    public static func load(from path: String, threads: Int) throws -> (model: CNN, file: SafetensorsFile) {
        let file = try read(path, expected: .model)
        let kind = SavedFileKind(of: file)
        guard kind == .model else { throw WrongFileError(path: path, kind: kind, expected: .model) }
        return (try ModelCheckpoint.model(from: file, threads: threads), file)
    }

    /// The denoiser in `path` (`Noise2VoidDenoiser.load`); `WrongFileError` for a model, checkpoint or artifacts file.
    /// A file without metadata may be an early `denoise` output, read with `fallback`'s network (nil: `load`'s default).
    public static func denoiser(from path: String, fallback: UNetConfiguration? = nil, threads: Int) throws -> Noise2VoidDenoiser {
        let kind = SavedFileKind(of: try read(path, expected: .denoiser))
        guard kind == .denoiser || kind == .unknown else { throw WrongFileError(path: path, kind: kind, expected: .denoiser) }
        guard let fallback else { return try Noise2VoidDenoiser.load(from: path, threads: threads) }
        return try Noise2VoidDenoiser.load(from: path, fallback: fallback, threads: threads)
    }

    /// The safetensors file at `path`; a JSON file (a run's config.json given for its model) is a `WrongFileError`
    /// naming the file to pass, where the safetensors reader would report an impossible header length.
    static func read(_ path: String, expected: SavedFileKind) throws -> SafetensorsFile {
        do {
            return try SafetensorsFile.read(from: path)
        } catch {
            guard startsLikeJSON(path) else { throw error }
            throw WrongFileError(path: path, kind: .json, expected: expected)
        }
    }

    /// Whether the file's first non-blank byte opens a JSON object or array.
    static func startsLikeJSON(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 64)) ?? Data()
        return head.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }.map { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") } ?? false
    }
}
