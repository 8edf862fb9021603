import ArgumentParser
import RobustTraining

/// Options of the Noise2Void denoiser's training (`train --method n2v`, `compare`, `denoise`), each an override of
/// `Noise2VoidSettings` applied by `apply(to:)`; nil keeps the base's value.
struct Noise2VoidOptions: ParsableArguments {
    /// The library's defaults, for the help texts.
    private static let defaults = Noise2VoidSettings()

    @Option(name: .long, help: "N2V: denoiser training epochs (default: \(Noise2VoidOptions.defaults.epochs)).")
    var n2vEpochs: Int?

    @Option(name: .long, help: "N2V: patches per denoiser epoch (default: \(Noise2VoidOptions.defaults.patchesPerEpoch)).")
    var n2vPatches: Int?

    @Option(name: .long, help: "N2V: patch side in pixels (default: \(Noise2VoidOptions.defaults.patchSize)).")
    var n2vPatchSize: Int?

    @Option(name: .long, help: "N2V: patches per denoiser mini-batch (default: \(Noise2VoidOptions.defaults.batchSize)).")
    var n2vBatchSize: Int?

    @Option(name: .long, help: "N2V: Adam learning rate of the denoiser (default: \(TrainingOptions.number(Noise2VoidOptions.defaults.learningRate)), the reference).")
    var n2vLr: Float?

    /// Every given option applied to `settings`.
    func apply(to settings: inout Noise2VoidSettings) {
        if let n2vEpochs { settings.epochs = n2vEpochs }
        if let n2vPatches { settings.patchesPerEpoch = n2vPatches }
        if let n2vPatchSize { settings.patchSize = n2vPatchSize }
        if let n2vBatchSize { settings.batchSize = n2vBatchSize }
        if let n2vLr { settings.learningRate = n2vLr }
    }
}
