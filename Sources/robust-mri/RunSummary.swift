import Experiments
import Foundation
import RobustTraining

/// The final metrics of a run, as a person reads them or as one JSON object.
struct RunSummary: Encodable {
    var method: String
    var testAccuracy: Double
    var testAccuracyByRho: [String: Double]
    var validationAccuracy: Double
    var macroF1: Double
    var epochs: Int
    var trainSeconds: Double
    var totalSeconds: Double
    var seed: UInt64
    var out: String
    /// The JSON keys: snake case.
    enum CodingKeys: String, CodingKey {
        case method, testAccuracy = "test_accuracy", testAccuracyByRho = "test_accuracy_by_rho",
             validationAccuracy = "val_accuracy", macroF1 = "macro_f1", epochs, trainSeconds = "train_seconds",
             totalSeconds = "total_seconds", seed, out
    }

    init(_ record: RunRecord, directory: String) {
        let last = record.final
        method = record.method
        testAccuracy = last?.test.first?.evaluation.accuracy ?? .nan
        testAccuracyByRho = Dictionary((last?.test ?? []).map { (String(format: "%g", $0.rho), $0.evaluation.accuracy) }, uniquingKeysWith: { first, _ in first })
        validationAccuracy = last?.validation.accuracy ?? .nan
        macroF1 = last?.test.first?.evaluation.macroF1 ?? .nan
        epochs = record.epochs.count
        trainSeconds = record.trainSeconds
        totalSeconds = record.totalSeconds
        seed = record.seed
        out = directory
    }

    func json() throws -> String {
        String(decoding: try JSONCoding.compactEncoder.encode(self), as: UTF8.self)
    }

    var text: String {
        // The macro-F1 is the first test set's (as `macro_f1` in the JSON), so it stands on the test line.
        var lines = ["\(method): test accuracy " + String(format: "%.2f%%", 100 * testAccuracy) + String(format: ", macro-F1 %.3f", macroF1)]
        for (rho, accuracy) in testAccuracyByRho.sorted(by: { $0.key < $1.key }) {
            lines.append("  at test-noise fraction \(rho): " + String(format: "%.2f%%", 100 * accuracy))
        }
        lines.append("  validation accuracy " + String(format: "%.2f%%", 100 * validationAccuracy))
        lines.append("  \(epochs) \(epochs == 1 ? "epoch" : "epochs") in " + TableRendering.durationText(trainSeconds) + " (seed \(seed)); files in \(out)")
        return lines.joined(separator: "\n")
    }
}
