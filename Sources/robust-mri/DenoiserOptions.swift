import ArgumentParser
import Experiments
import Foundation
import NN
import RobustTraining

/// Which Noise2Void denoiser `evaluate` and `predict` put in front of the model. An n2v run saves its
/// denoiser beside its model, and its model was trained (and tested) on denoised images, so by default
/// the denoiser found beside the checkpoint is applied; `--denoiser` names another, `--no-denoiser`
/// classifies the raw images.
struct DenoiserOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Noise2Void denoiser to apply before the model (default: the denoiser.safetensors beside the checkpoint, if there is one: an n2v run's).", valueName: "path"))
    var denoiser: String?

    @Flag(name: .long, help: "Classify the images as given, even when the checkpoint's folder holds a denoiser.")
    var noDenoiser = false

    func validate() throws {
        if noDenoiser, denoiser != nil { throw ValidationError("--denoiser and --no-denoiser contradict each other: give one") }
    }

    /// The denoiser to use for `checkpoint` (and its path), or nil; `metadata` is the checkpoint file's.
    func resolve(checkpoint: String, metadata: [String: String], threads: Int,
                 quiet: Bool) throws -> (denoiser: Noise2VoidDenoiser, path: String)? {
        if noDenoiser { return nil }
        let path: String
        if let denoiser {
            guard FileManager.default.fileExists(atPath: denoiser) else {
                throw ValidationError("--denoiser \(denoiser): no such file; pass the denoiser.safetensors of an n2v run or of `robust-mri denoise`")
            }
            path = denoiser
        } else {
            guard let beside = Noise2VoidMethod.denoiserPath(besideModel: checkpoint) else {
                if metadata[ModelCheckpoint.trainedInputKey] == ModelCheckpoint.denoisedInput {
                    throw ValidationError("""
                        \(checkpoint) is an n2v run's model: it was trained on images denoised by that run's \
                        denoiser.safetensors, which is not beside it. Pass --denoiser <that file>, or --no-denoiser to \
                        classify the images as given (its figures are then not the run's)
                        """)
                }
                return nil
            }
            path = beside
        }
        let loaded = try SavedModel.denoiser(from: path, threads: threads)
        if !quiet {
            FileHandle.standardError.write(Data("images are denoised by \(path) before the model (an n2v run's denoiser; --no-denoiser to skip)\n".utf8))
        }
        return (loaded, path)
    }
}
