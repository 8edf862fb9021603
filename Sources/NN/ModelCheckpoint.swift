import Tensor

/// The CNN in a safetensors file that PyTorch loads with `load_state_dict(strict=True)`: every
/// parameter and buffer under PyTorch's names (`num_batches_tracked` as an int64 scalar), and the
/// configuration in the metadata under `robust_mri.model_configuration` (see docs/checkpoint-format.md).
public enum ModelCheckpoint {
    public static let configurationKey = "robust_mri.model_configuration"
    public static let formatKey = "format"
    /// The configuration as `tools/paper_cnn.py` reads it, so that PyTorch rebuilds the same network.
    public static let torchConfigurationKey = "model_config"
    /// What the model was trained on where that was not the images themselves: `denoisedInput` for an n2v run's model,
    /// which classifies images after the run's Noise2Void denoiser (denoiser.safetensors beside it). Absent otherwise.
    public static let trainedInputKey = "robust_mri.trained_input"
    public static let denoisedInput = "noise2void-denoised"

    struct TorchConfiguration: Codable {
        var inputSize: Int
        var inputChannels: Int
        var channels: [Int]
        var kernelSize: Int
        var padding: String
        var numClasses: Int
        var batchNormEpsilon: Double
        var batchNormMomentum: Double
        /// The keys `tools/paper_cnn.py` reads.
        enum CodingKeys: String, CodingKey {
            case inputSize = "input_size", inputChannels = "input_channels", channels, kernelSize = "kernel_size",
                 padding, numClasses = "num_classes", batchNormEpsilon = "batch_norm_eps",
                 batchNormMomentum = "batch_norm_momentum"
        }
    }

    /// The model's tensors and configuration as a file value (to which a trainer may add its own entries).
    public static func file(for model: CNN) -> SafetensorsFile {
        var file = SafetensorsFile(namedTensors: model.namedTensors(), metadata: [formatKey: "pt"])
        for (name, value) in model.namedCounters() { file.set(name, int64Scalar: value) }
        // The configuration is a plain Codable value: encoding cannot fail.
        try? file.setMetadataJSON(configurationKey, model.configuration)
        let c = model.configuration
        try? file.setMetadataJSON(torchConfigurationKey, TorchConfiguration(
            inputSize: c.imageSize, inputChannels: c.inputChannels, channels: c.channels, kernelSize: c.kernelSize,
            padding: c.padding.rawValue, numClasses: c.classes,
            batchNormEpsilon: shortestDouble(model.blocks.first?.batchNorm.epsilon ?? 1e-5),
            batchNormMomentum: shortestDouble(model.blocks.first?.batchNorm.momentum ?? 0.1)))
        return file
    }

    /// Writes the model atomically; `trainedInput` (e.g. `denoisedInput`) is recorded under `trainedInputKey`.
    public static func save(_ model: CNN, to path: String, trainedInput: String? = nil) throws(CheckpointError) {
        var file = file(for: model)
        if let trainedInput { file.metadata[trainedInputKey] = trainedInput }
        try file.write(to: path)
    }

    /// The model stored in `file`: its configuration from the metadata, then every tensor by name and shape.
    public static func model(from file: SafetensorsFile, threads: Int = 1) throws -> CNN {
        let configuration: CNNConfiguration
        if file.metadata[configurationKey] == nil, file.metadata[torchConfigurationKey] != nil {
            // A file written by PyTorch with tools/paper_cnn.py's configuration.
            let torch = try file.metadataJSON(torchConfigurationKey, as: TorchConfiguration.self)
            guard let padding = Conv2D.Padding(rawValue: torch.padding) else {
                throw CheckpointError.badMetadata(file: file.source, key: torchConfigurationKey,
                                                  detail: "padding '\(torch.padding)' is neither 'same' nor 'valid'")
            }
            configuration = CNNConfiguration(imageSize: torch.inputSize, channels: torch.channels, kernelSize: torch.kernelSize,
                                             padding: padding, classes: torch.numClasses, inputChannels: torch.inputChannels)
        } else {
            configuration = try file.metadataJSON(configurationKey, as: CNNConfiguration.self)
        }
        try file.checkHolds(configuration.weightCount, key: configurationKey)
        var generator = SeededGenerator(seed: 0)
        var model = try CNN(configuration: configuration, generator: &generator, threads: threads)
        var tensors: [(name: String, tensor: Tensor)] = []
        for name in model.namedTensors().map(\.name) {
            tensors.append((name, try file.tensor(name)))
        }
        var counters: [(name: String, value: Int64)] = []
        for (name, _) in model.namedCounters() where file[name] != nil {
            counters.append((name, try file.int64Scalar(name)))
        }
        do {
            try model.load(namedTensors: tensors, namedCounters: counters)
        } catch {
            throw CheckpointError.badMetadata(file: file.source, key: configurationKey,
                                              detail: "the tensors do not fit the stored configuration: \(error)")
        }
        return model
    }

    /// Reads a model saved by `save` (or any file with the same names and configuration metadata).
    public static func load(from path: String, threads: Int = 1) throws -> CNN {
        try model(from: try SafetensorsFile.read(from: path), threads: threads)
    }
}

/// The Double whose shortest decimal form is the Float's (1e-05, not 9.999999747378752e-06).
private func shortestDouble(_ value: Float) -> Double {
    Double("\(value)") ?? Double(value)
}
