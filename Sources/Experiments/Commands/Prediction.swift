import Foundation
import MRIData
import NN
import RobustTraining
import Tensor

/// Class probabilities of a saved model for image files: what `robust-mri predict` prints.
///
/// Each file is decoded (`ImageDecoder`: JPEG, PNG, DICOM, NIfTI, to grey) and preprocessed exactly as the
/// dataset loaders do (`Preprocessing.preprocessed`: the run's intensity mapping, x / max x by default for
/// JPEG and PNG and min-max for DICOM and NIfTI; pad to a square, resize to the model's side S, quantise
/// to 1/255), then classified in evaluation mode; p = softmax(logits). A NIfTI volume gives one prediction
/// per axial slice (there is no manifest to choose one); a 4D file is refused.
package struct Prediction: Codable, Sendable, Equatable {
    package var file: String
    /// The axial slice of a NIfTI volume; nil for other files.
    package var slice: Int?
    /// Index of the most probable class (`TumourClass` raw value).
    package var predictedClass: Int
    /// softmax(logits), one probability per class.
    package var probabilities: [Double]

    package var className: String {
        TumourClass(rawValue: predictedClass)?.name ?? "class \(predictedClass)"
    }

    /// A file that could not be read, and why.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var file: String
        package var reason: String
        package var description: String { reason }
    }

    /// The file and, for a NIfTI volume, the slice: "scan.nii.gz [slice 12]".
    package var name: String { slice.map { "\(file) [slice \($0)]" } ?? file }

    /// One slice -> its preprocessed pixels, S*S values in [0, 1]. Throws `MRIDataError` naming the file.
    package static func preprocessedImage(_ slice: SliceReference, size: Int, intensity: IntensityMapping,
                                         decoder: ImageDecoder) throws -> [Float] {
        Preprocessing.preprocessed(try decoder.decode(slice), size: size, intensity: intensity)
    }

    /// softmax over each row of logits [N, K], stably (the row maximum subtracted first).
    package static func probabilities(logits: Tensor) -> [[Double]] {
        precondition(logits.rank == 2, "Prediction.probabilities: logits must be [N, K], got \(logits.shape)")
        let n = logits.shape[0], k = logits.shape[1]
        let values = logits.scalars
        return (0..<n).map { i in
            let row = values[(i * k)..<((i + 1) * k)].map(Double.init)
            let peak = row.max() ?? 0
            let exps = row.map { Foundation.exp($0 - peak) }
            let total = exps.reduce(0, +)
            return exps.map { $0 / total }
        }
    }

    /// Predictions for `files`, in order, batched by `batchSize`. Unreadable files are returned as
    /// failures (the caller decides whether one stops the run); they never reach the model. Faults the
    /// decoder forgave (a harmless JPEG warning) are printed on standard error. With a
    /// `denoiser` (an N2V run's) the images are denoised before they are classified, as in the run.
    package static func predict(model: CNN, files: [String], batchSize: Int = 32, denoiser: Noise2VoidDenoiser? = nil,
                                intensity: IntensityMapping = .standard) -> (predictions: [Prediction], failures: [Failure]) {
        let size = model.configuration.imageSize
        let decoder = ImageDecoder()
        var predictions: [Prediction] = [], failures: [Failure] = []
        var failedFiles = Set<String>()  // one failure per file, not one per slice of a damaged volume
        func failed(_ file: String, _ error: Error) {
            guard failedFiles.insert(file).inserted else { return }
            if case MRIDataError.missingPath = error {
                failures.append(Failure(file: file, reason: "No such image file: \(file). Check the path."))
            } else {
                failures.append(Failure(file: file, reason: "\(error)"))
            }
        }
        var slices: [SliceReference] = []
        for file in files {
            do {
                slices += try SliceReference.slices(of: file, slice: nil, volume: nil, mode: .all)
            } catch {
                failed(file, error)
            }
        }
        var start = 0
        while start < slices.count {
            let chunk = slices[start..<min(slices.count, start + batchSize)]
            start += chunk.count
            var readable: [SliceReference] = [], pixels: [Float] = []
            for slice in chunk where !failedFiles.contains(slice.path) {
                do {
                    pixels += try preprocessedImage(slice, size: size, intensity: intensity, decoder: decoder)
                    readable.append(slice)
                } catch {
                    failed(slice.path, error)
                }
                for warning in decoder.takeWarnings() { DatasetLoader.warn(warning) }
            }
            guard !readable.isEmpty else { continue }
            let raw = Tensor(shape: [readable.count, model.configuration.inputChannels, size, size], scalars: pixels)
            let images = denoiser.map { $0.denoised(raw, batchSize: 8) } ?? raw
            let rows = probabilities(logits: model.evaluated(images).logits)
            for (slice, p) in zip(readable, rows) {
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                predictions.append(Prediction(file: slice.path, slice: slice.slice, predictedClass: best, probabilities: p))
            }
        }
        return (predictions, failures)
    }

    /// A table: file, predicted class, then one probability column per class.
    package static func table(_ predictions: [Prediction]) -> String {
        let names = TumourClass.allCases.map(\.name)
        let fileWidth = max(4, predictions.map(\.name.count).max() ?? 0)
        func padded(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        var lines = [padded("file", fileWidth) + "  " + padded("predicted", 12) + names.map { padded("p(\($0))", 15) }.joined()]
        for p in predictions {
            lines.append(padded(p.name, fileWidth) + "  " + padded(p.className, 12)
                         + p.probabilities.map { padded(String(format: "%.4f", $0), 15) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object: {"file", "slice" (NIfTI only), "predicted", "probabilities": {"meningioma": p, ...}} (sorted keys).
    package func json() throws -> String {
        struct Object: Encodable {
            var file: String, slice: Int?, predicted: String, predictedIndex: Int, probabilities: [String: Double]
            /// The JSON keys: snake case.
            enum CodingKeys: String, CodingKey {
                case file, slice, predicted, predictedIndex = "predicted_index", probabilities
            }
        }
        let names = TumourClass.allCases.map(\.name)
        let probabilities = Dictionary(uniqueKeysWithValues: self.probabilities.enumerated().map {
            ($0.offset < names.count ? names[$0.offset] : "class \($0.offset)", $0.element)
        })
        let object = Object(file: file, slice: slice, predicted: className, predictedIndex: predictedClass, probabilities: probabilities)
        return String(decoding: try JSONCoding.compactEncoder.encode(object), as: UTF8.self)
    }
}
