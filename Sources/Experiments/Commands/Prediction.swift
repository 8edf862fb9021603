import Foundation
import MRIData
import NN
import RobustTraining
import Tensor

/// Class probabilities of a saved model for image files: what `robust-mri predict` prints.
///
/// Each file is decoded (`ImageDecoder`: JPEG or PNG, to grey) and preprocessed exactly as the dataset
/// loaders do (`Preprocessing.preprocessed`: x / max x, pad to a square, resize to the model's side S,
/// quantise to 1/255), then classified in evaluation mode; p = softmax(logits).
package struct Prediction: Codable, Sendable, Equatable {
    package var file: String
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

    /// One image file -> its preprocessed pixels, S*S values in [0, 1]. Throws `MRIDataError` naming the file.
    package static func preprocessedImage(file: String, size: Int, decoder: ImageDecoder) throws -> [Float] {
        let image = try decoder.decodeFile(file)
        return Preprocessing.preprocessed(pixels: image.pixels, width: image.width, height: image.height, size: size)
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
    package static func predict(model: CNN, files: [String], batchSize: Int = 32,
                               denoiser: Noise2VoidDenoiser? = nil) -> (predictions: [Prediction], failures: [Failure]) {
        let size = model.configuration.imageSize
        let decoder = ImageDecoder()
        var predictions: [Prediction] = [], failures: [Failure] = []
        var start = 0
        while start < files.count {
            let chunk = files[start..<min(files.count, start + batchSize)]
            start += chunk.count
            var readable: [String] = [], pixels: [Float] = []
            for file in chunk {
                do {
                    pixels += try preprocessedImage(file: file, size: size, decoder: decoder)
                    readable.append(file)
                } catch MRIDataError.missingPath {
                    failures.append(Failure(file: file, reason: "No such image file: \(file). Check the path."))
                } catch {
                    failures.append(Failure(file: file, reason: "\(error)"))
                }
                for warning in decoder.takeWarnings() { DatasetLoader.warn(warning) }
            }
            guard !readable.isEmpty else { continue }
            let raw = Tensor(shape: [readable.count, model.configuration.inputChannels, size, size], scalars: pixels)
            let images = denoiser.map { $0.denoised(raw, batchSize: 8) } ?? raw
            let rows = probabilities(logits: model.evaluated(images).logits)
            for (file, p) in zip(readable, rows) {
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                predictions.append(Prediction(file: file, predictedClass: best, probabilities: p))
            }
        }
        return (predictions, failures)
    }

    /// A table: file, predicted class, then one probability column per class.
    package static func table(_ predictions: [Prediction]) -> String {
        let names = TumourClass.allCases.map(\.name)
        let fileWidth = max(4, predictions.map(\.file.count).max() ?? 0)
        func padded(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
        var lines = [padded("file", fileWidth) + "  " + padded("predicted", 12) + names.map { padded("p(\($0))", 15) }.joined()]
        for p in predictions {
            lines.append(padded(p.file, fileWidth) + "  " + padded(p.className, 12)
                         + p.probabilities.map { padded(String(format: "%.4f", $0), 15) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON object: {"file", "predicted", "probabilities": {"meningioma": p, ...}} (sorted keys).
    package func json() throws -> String {
        struct Object: Encodable {
            var file: String, predicted: String, predictedIndex: Int, probabilities: [String: Double]
            /// The JSON keys: snake case.
            enum CodingKeys: String, CodingKey {
                case file, predicted, predictedIndex = "predicted_index", probabilities
            }
        }
        let names = TumourClass.allCases.map(\.name)
        let probabilities = Dictionary(uniqueKeysWithValues: self.probabilities.enumerated().map {
            ($0.offset < names.count ? names[$0.offset] : "class \($0.offset)", $0.element)
        })
        let object = Object(file: file, predicted: className, predictedIndex: predictedClass, probabilities: probabilities)
        return String(decoding: try JSONCoding.compactEncoder.encode(object), as: UTF8.self)
    }
}
