import Experiments
import Foundation
import RobustTraining

/// The final metrics of a run, as a person reads them or as one JSON object.
struct RunSummary: Encodable {
    var method: String
    var test_accuracy: Double
    var test_accuracy_by_rho: [String: Double]
    var val_accuracy: Double
    var macro_f1: Double
    var epochs: Int
    var train_seconds: Double
    var total_seconds: Double
    var seed: UInt64
    var out: String

    init(_ record: RunRecord, directory: String) {
        let last = record.final
        method = record.method
        test_accuracy = last?.test.first?.evaluation.accuracy ?? .nan
        test_accuracy_by_rho = Dictionary(uniqueKeysWithValues: (last?.test ?? []).map { (String(format: "%g", $0.rho), $0.evaluation.accuracy) })
        val_accuracy = last?.validation.accuracy ?? .nan
        macro_f1 = last?.test.first?.evaluation.macroF1 ?? .nan
        epochs = record.epochs.count
        train_seconds = record.trainSeconds
        total_seconds = record.totalSeconds
        seed = record.seed
        out = directory
    }

    func json() throws -> String {
        String(decoding: try JSONCoding.compactEncoder.encode(self), as: UTF8.self)
    }

    var text: String {
        var lines = ["\(method): test accuracy " + String(format: "%.2f%%", 100 * test_accuracy)]
        for (rho, accuracy) in test_accuracy_by_rho.sorted(by: { $0.key < $1.key }) {
            lines.append("  at test-noise fraction \(rho): " + String(format: "%.2f%%", 100 * accuracy))
        }
        lines.append("  validation accuracy " + String(format: "%.2f%%", 100 * val_accuracy) + String(format: ", macro-F1 %.3f", macro_f1))
        lines.append("  \(epochs) epochs in " + TableRendering.durationText(train_seconds) + " (seed \(seed)); files in \(out)")
        return lines.joined(separator: "\n")
    }
}
