import ArgumentParser
import Experiments
import Foundation
import MRIData
import NN
import RobustTraining

/// The settings a command on a saved model starts from (`evaluate`, `influence --checkpoint`): the run's
/// config.json beside the checkpoint when there is one, else the library's defaults; at the model's image size;
/// each option given overriding its setting. The one place a saved run's settings are found and merged with the
/// options, so that every command on a model reads its data as its run did.
struct SavedRunSettings {
    /// config.json beside the checkpoint.
    let configPath: String
    /// The settings stored there; nil without one.
    let stored: RunSettings?
    /// The model file the settings are for.
    let checkpoint: String
    /// The data: the stored run's (else the library's defaults) at the model's size, with the options given.
    let data: DataSettings
    /// --seed, else the stored run's seed, else the library's default.
    let seed: UInt64

    /// The settings for the model in `checkpoint` (configuration `model`). An --image-size other than the model's is refused.
    init(checkpoint: String, model: CNNConfiguration, dataOptions: DataOptions, seed: UInt64?) throws {
        let size = model.imageSize
        if let given = dataOptions.imageSize, given != size {
            throw ValidationError("\(checkpoint) holds a model for \(size) px images, but --image-size is \(given): pass --image-size \(size) or leave it out")
        }
        self.checkpoint = checkpoint
        configPath = FilePaths.joining(FilePaths.folder(of: checkpoint), "config.json")
        stored = try Self.stored(checkpoint: checkpoint)
        var base = stored?.data ?? DataSettings(imageSize: size)
        base.imageSize = size
        var data = try dataOptions.settings(base: base)
        if dataOptions.data == nil, let kept = data.path, let found = Self.resolvedStoredDataPath(kept, checkpoint: checkpoint) {
            data.path = found
            dataPathNotice = "the run's --data \(kept) is relative to the folder it was trained from: found it at \(found)"
        } else {
            dataPathNotice = nil
        }
        self.data = data
        self.seed = seed ?? stored?.training.seed ?? TrainingConfiguration().seed
    }

    /// Set when the run's relative --data was found from a folder above the checkpoint rather than the current one.
    let dataPathNotice: String?

    /// A run's config.json keeps --data as typed, relative to the folder the run was started from, which is usually
    /// a folder above its output (`train --data ../shared/data/x --out out/run` in a project folder). When the path
    /// does not exist from the current folder, it is looked up from each folder above the checkpoint, nearest first;
    /// the first place it exists is returned (absolute), nil when the path is absolute, exists as it is, or is
    /// found nowhere (the loader's missing-data message then says to pass --data).
    static func resolvedStoredDataPath(_ path: String, checkpoint: String) -> String? {
        let manager = FileManager.default
        guard !path.hasPrefix("/"), !manager.fileExists(atPath: path) else { return nil }
        var folder = URL(fileURLWithPath: checkpoint).standardizedFileURL.deletingLastPathComponent()
        while true {
            let candidate = folder.appendingPathComponent(path).standardizedFileURL
            if manager.fileExists(atPath: candidate.path) { return candidate.path }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// Where the settings came from, for standard error.
    var origin: String {
        stored == nil
            ? "no \(configPath) beside the checkpoint: data settings are train's defaults at the model's \(data.imageSize) px, seed \(seed), with the options given"
            : "data settings and seed (\(seed)) from \(configPath), with the options given" + (dataPathNotice.map { "; " + $0 } ?? "")
    }

    /// A warning when --intensity-clip maps intensities otherwise than the model's run did; nil when they agree.
    var intensityWarning: String? {
        let trained = (stored?.data ?? DataSettings()).imageReading.intensity
        let used = data.imageReading.intensity
        guard used != trained else { return nil }
        return """
            warning: --intensity-clip maps intensities as \(used.description), but the model was trained on \
            \(trained.description) (its run's config.json): its figures are for images it was not trained on; leave \
            --intensity-clip out to use the run's mapping
            """
    }

    /// A warning when the model's run trained on synthetic phantoms (its config.json names no data folder) and the
    /// images given are real (--data): a model of phantoms has never seen an MRI scan. nil otherwise, and without config.json.
    var dataKindWarning: String? {
        guard let stored, stored.data.path == nil, let path = data.path else { return nil }
        return Self.phantomModelWarning(checkpoint: checkpoint, configPath: configPath, images: "the images of \(path)")
    }

    /// The warning for a model trained on phantoms applied to `images` (real data, or image files).
    static func phantomModelWarning(checkpoint: String, configPath: String, images: String) -> String {
        """
        warning: \(checkpoint) was trained on synthetic phantoms (\(configPath) names no --data), and is applied to \(images): \
        it has never seen a real scan, so its figures say little about them; train on real data (train --data <folder>) \
        for a model of them
        """
    }

    /// The run's training configuration (without config.json: the library's, for ISP) with the training options given,
    /// the seed, and the checkpoint's network `model` (options that describe another network are refused).
    func training(options: TrainingOptions, model: CNNConfiguration) throws -> TrainingConfiguration {
        if options.model != nil || options.channels != nil {
            throw ValidationError("--model and --channels describe a network to train; with --checkpoint the network is the checkpoint's (\(model.channels.count) blocks, channels \(TrainingOptions.list(model.channels))): leave them out")
        }
        var training = stored?.training ?? TrainingConfiguration(method: .isp)
        options.apply(to: &training, imageSize: data.imageSize, imageSizeChanged: false, baseVariant: nil)
        training.model = model
        training.seed = seed
        return try training.validatedForTool()
    }

    /// The settings of the run whose config.json is beside `checkpoint`; nil without one.
    static func stored(checkpoint: String) throws -> RunSettings? {
        let config = FilePaths.joining(FilePaths.folder(of: checkpoint), "config.json")
        guard let bytes = FileManager.default.contents(atPath: config) else { return nil }
        do {
            return try JSONCoding.decoder.decode(RunSettings.self, from: bytes)
        } catch {
            throw ValidationError("\(config), beside the checkpoint, is not a run's settings (\(error)); move it away to use the defaults")
        }
    }

    /// The intensity mapping of the run whose config.json is beside `checkpoint`; the standard one without it.
    static func intensity(checkpoint: String) throws -> IntensityMapping {
        try stored(checkpoint: checkpoint)?.data.imageReading.intensity ?? .standard
    }

    /// `predict`'s warning for image files given to a model whose run trained on phantoms; nil otherwise, and without config.json.
    static func imageFilesWarning(checkpoint: String) throws -> String? {
        guard let stored = try stored(checkpoint: checkpoint), stored.data.path == nil else { return nil }
        return phantomModelWarning(checkpoint: checkpoint, configPath: FilePaths.joining(FilePaths.folder(of: checkpoint), "config.json"),
                                   images: "image files")
    }
}
