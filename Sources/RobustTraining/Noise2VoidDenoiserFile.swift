import NN
import Tensor

/// A denoiser on disk: `denoiser.safetensors` holds the U-Net's weights (`unet.*`), `normalization`
/// = [mean, std], and the U-Net's configuration as JSON metadata, so the file alone rebuilds it.
/// `robust-mri train --method n2v` writes it beside `model.safetensors`; `denoise` writes and reads it;
/// `evaluate` and `predict` apply it before classifying.
extension Noise2VoidDenoiser {
    /// Metadata key of the U-Net configuration.
    public static let configurationKey = "robust_mri.unet_configuration"

    /// The file name a run gives its denoiser, beside `model.safetensors`.
    public static let fileName = "denoiser.safetensors"

    /// Writes the denoiser atomically to `path`.
    public func save(to path: String) throws {
        var file = SafetensorsFile(namedTensors: namedTensors())
        try file.setMetadataJSON(Self.configurationKey, network.configuration)
        try file.write(to: path)
    }

    /// Reads a denoiser written by `save(to:)`. Files without the configuration (older `denoise` output)
    /// fall back to `fallback`. Errors name the file.
    public static func load(from path: String, fallback: UNetConfiguration = networkConfiguration(Noise2VoidSettings()),
                            threads: Int = 1) throws -> Noise2VoidDenoiser {
        let file = try SafetensorsFile.read(from: path)
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        let configuration = file.metadata[configurationKey] == nil
            ? fallback : try file.metadataJSON(configurationKey, as: UNetConfiguration.self)
        do { try configuration.validate() } catch {
            throw TrainingError.checkpoint("\(path): the U-Net configuration in its metadata is invalid (\(error))")
        }
        try file.checkHolds(configuration.weightCount, key: configurationKey)
        do {
            return try Noise2VoidDenoiser(namedTensors: tensors, configuration: configuration, threads: threads)
        } catch {
            throw TrainingError.checkpoint("\(path) is not a Noise2Void denoiser written by robust-mri (\(error)); "
                                           + "pass the denoiser.safetensors of an n2v run or of `robust-mri denoise`")
        }
    }
}
