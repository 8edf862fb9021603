import ArgumentParser
import Experiments
import Foundation
import MRIData
import NN

/// `robust-mri predict`: class probabilities of a saved model for image files (parsing and printing only).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify JPEG, PNG, DICOM or NIfTI images with a saved model: predicted class and class probabilities.",
        discussion: """
            Each image is converted to grey and preprocessed as the dataset loaders do (intensities mapped as the run's \
            config.json beside the checkpoint says: by default scaled to maximum 1 for JPEG and PNG, min-max for DICOM and NIfTI; \
            padded to a square, resized to the model's size), and for an n2v run denoised by its denoiser. A NIfTI volume \
            gives one line per axial slice. Output: a table, or with --json one JSON object per line per image: \
            {"file", "slice" (NIfTI), "predicted", "predicted_index", "probabilities": {class: p}}; predicted_index is the \
            model's 0-based output (0 meningioma, 1 glioma, 2 pituitary: figshare's 1-based label minus 1).
            """)

    @Option(name: .long, help: ArgumentHelp("Model file written by train (model.safetensors).", valueName: "path"))
    var checkpoint: String

    @Argument(help: ArgumentHelp("Image files: JPEG, PNG, DICOM (.dcm, or scanner files with the DICOM marker), NIfTI (.nii, .nii.gz).", valueName: "image"))
    var images: [String]

    @OptionGroup var denoiserOptions: DenoiserOptions

    @Flag(name: .long, help: "Report unreadable files on standard error and go on (default: stop with an error).")
    var skipUnreadable = false

    @Option(name: .long, help: "Threads.")
    var threads: Int = 2

    @Flag(name: .long, help: "Print one JSON object per line per file instead of a table.")
    var json = false

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        guard threads > 0 else { throw ValidationError("--threads must be positive (got \(threads))") }
    }

    func run() throws {
        let (model, file) = try SavedModel.load(from: checkpoint, threads: threads)
        let denoiser = try denoiserOptions.resolve(checkpoint: checkpoint, metadata: file.metadata, threads: threads, quiet: false)
        let intensity = try SavedRunSettings.intensity(checkpoint: checkpoint)
        if let warning = try SavedRunSettings.imageFilesWarning(checkpoint: checkpoint) {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        let (predictions, failures) = Prediction.predict(model: model, files: images, denoiser: denoiser?.denoiser,
                                                         intensity: intensity)
        if let first = failures.first, !skipUnreadable {
            throw first
        }
        for failure in failures {
            FileHandle.standardError.write(Data("skipped: \(failure.reason)\n".utf8))
        }
        if !failures.isEmpty {
            // The count closes the list, so that a long list of skips still says how much was predicted.
            let summary = predictions.isEmpty
                ? "no image could be read (\(failures.count) of \(images.count) skipped): nothing predicted; check the paths and formats above"
                : "predicted \(predictions.count) of \(images.count) images; \(failures.count) skipped (above)"
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
        if json {
            for p in predictions { print(try p.json()) }
        } else if !predictions.isEmpty {
            print(Prediction.table(predictions))
        }
        if predictions.isEmpty { throw ExitCode.failure }
    }
}
