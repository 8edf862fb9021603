import Foundation
import NN
import Tensor

/// A training run's state in one safetensors file, written atomically after every epoch: the model
/// (PyTorch names), Adam's moments, the current training images when a method changed them, ISR's
/// weights, the method's own tensors, and in the metadata the configuration, the epoch count, the
/// history of epoch metrics and the training time so far.
public enum TrainingCheckpoint {
    /// The metadata key of the training configuration: what marks a file as a training checkpoint.
    public static let configurationKey = "robust_mri.training_configuration"
    static let progressKey = "robust_mri.progress"
    /// The EMA of the weights, under the model's names with this prefix.
    static let averagePrefix = "state.average."

    struct Progress: Codable {
        var completedEpochs: Int
        var adamStep: Int
        var trainSeconds: Double
        var history: [EpochMetrics]
        var trainImagesChanged: Bool
    }

    /// Writes `state` (and the method's tensors) to `path` atomically.
    public static func save<Method: TrainingMethod>(
        _ state: TrainingState, method: Method, configuration: TrainingConfiguration,
        originalTrainImages: Tensor, to path: String
    ) throws {
        var file = ModelCheckpoint.file(for: state.model)
        for (i, m) in state.optimizer.firstMoments.enumerated() { file.set("optimizer.adam.m.\(i)", m) }
        for (i, v) in state.optimizer.secondMoments.enumerated() { file.set("optimizer.adam.v.\(i)", v) }
        let changed = state.trainImages != originalTrainImages
        if changed { file.set("state.train_images", state.trainImages) }
        if let weights = state.sampleWeights {
            file.set("state.sample_weights", Tensor(shape: [weights.count], scalars: weights))
        }
        for (name, tensor) in method.checkpointTensors() { file.set("method.\(name)", tensor) }
        if let average = state.averagedModel {
            for (name, tensor) in average.namedTensors() { file.set(averagePrefix + name, tensor) }
        }
        do {
            try file.setMetadataJSON(configurationKey, configuration)
            try file.setMetadataJSON(progressKey, Progress(
                completedEpochs: state.completedEpochs, adamStep: state.optimizer.step, trainSeconds: state.trainSeconds,
                history: state.history, trainImagesChanged: changed))
            try AtomicFile.createDirectories(AtomicFile.parentDirectory(of: path))
            try file.write(to: path)
        } catch {
            throw TrainingError.checkpoint("could not save the checkpoint \(path): \(error)")
        }
    }

    /// The epochs a checkpoint has completed, from its header alone (an ISP checkpoint holds every training image).
    public static func completedEpochs(at path: String) throws -> Int {
        do {
            let file = SafetensorsFile(metadata: try SafetensorsFile.readMetadata(from: path))
            return try file.metadataJSON(progressKey, as: Progress.self).completedEpochs
        } catch {
            throw TrainingError.checkpoint("cannot resume from \(path): \(error). Delete it to start the run afresh.")
        }
    }

    /// Restores a state saved by `save`, after checking that it was made with the same configuration (threads aside,
    /// and the influence settings while the influence step has not run: `ResumeRule`). `fresh` supplies the data's
    /// training images when the method had not changed them.
    public static func load<Method: TrainingMethod>(
        from path: String, configuration: TrainingConfiguration, fresh: TrainingState, method: inout Method
    ) throws -> TrainingState {
        let file: SafetensorsFile
        do { file = try SafetensorsFile.read(from: path) } catch {
            throw TrainingError.checkpoint("cannot resume from \(path): \(error). Delete it to start the run afresh.")
        }
        do {
            var saved = try file.metadataJSON(configurationKey, as: TrainingConfiguration.self)
            saved.threads = configuration.threads
            let progress = try file.metadataJSON(progressKey, as: Progress.self)
            let hasRun = ResumeRule.influenceStepHasRun(saved, completedEpochs: progress.completedEpochs)
            let differences = SettingDifference.between(saved, configuration, prefix: "training")
            let refused = ResumeRule.refused(differences, trainingPrefix: "training", influenceStepHasRun: hasRun)
            guard refused.isEmpty else {
                let note = hasRun && refused.contains { ResumeRule.isInfluenceSetting($0, trainingPrefix: "training") }
                    ? ResumeRule.passedNote(saved, completedEpochs: progress.completedEpochs) + "\n" : ""
                throw TrainingError.checkpoint("""
                    the checkpoint \(path) was made with other settings than this run's (\(refused.count) differ):
                    \(SettingDifference.lines(refused))
                    \(note)resume with the stored settings (the options that set them as they were), or use another --out directory
                    """)
            }
            var state = fresh
            state.model = try ModelCheckpoint.model(from: file, threads: configuration.threads)
            var first: [Tensor] = [], second: [Tensor] = []
            var index = 0
            while file["optimizer.adam.m.\(index)"] != nil {
                first.append(try file.tensor("optimizer.adam.m.\(index)"))
                second.append(try file.tensor("optimizer.adam.v.\(index)"))
                index += 1
            }
            state.optimizer.restore(step: progress.adamStep, firstMoments: first, secondMoments: second)
            if progress.trainImagesChanged {
                state.trainImages = try file.tensor("state.train_images", shape: fresh.trainImages.shape)
            }
            if file["state.sample_weights"] != nil {
                state.sampleWeights = try file.tensor("state.sample_weights").scalars
            }
            if state.averagedModel != nil {
                var average = state.model
                let names = average.namedTensors().map(\.name)
                try average.load(namedTensors: try names.map { ($0, try file.tensor(averagePrefix + $0)) })
                state.averagedModel = average
            }
            var methodTensors: [String: Tensor] = [:]
            for name in file.names where name.hasPrefix("method.") {
                methodTensors[String(name.dropFirst("method.".count))] = try file.tensor(name)
            }
            try method.restore(from: methodTensors)
            state.completedEpochs = progress.completedEpochs
            state.history = progress.history
            state.trainSeconds = progress.trainSeconds
            return state
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.checkpoint("cannot resume from \(path): \(error). Delete it to start the run afresh.")
        }
    }
}
