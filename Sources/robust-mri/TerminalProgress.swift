import Foundation
import RobustTraining

/// Draws training progress on standard error: a live bar when it is a terminal, one line per epoch
/// otherwise (logs, CI). Printing only; all numbers come from the trainer.
final class TerminalProgress: TrainingObserver {
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let label: String
    private var epochStart = Date()
    private var lastDraw = Date.distantPast
    private var lastBatch = (batch: 0, batches: 1)
    private let runStart = Date()
    /// When a phase last wrote a line to a log (not a terminal).
    private var lastPhaseLine = Date()
    /// Seconds between a long phase's lines in a log.
    static let logInterval: TimeInterval = 30

    /// `label` prefixes every line, e.g. the run's name in a grid.
    init(label: String = "") {
        self.label = label.isEmpty ? "" : label + " "
    }

    func batchFinished(epoch: Int, epochs: Int, batch: Int, batches: Int, runningLoss: Double,
                       runningAccuracy: Double, imagesPerSecond: Double) {
        if batch == 1 { epochStart = Date() }
        lastBatch = (batch, batches)
        guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.2 || batch == batches else { return }
        lastDraw = Date()
        let elapsed = Date().timeIntervalSince(epochStart)
        let perBatch = elapsed / Double(max(batch, 1))
        let left = perBatch * Double(batches - batch) + perBatch * Double(batches) * Double(epochs - epoch)
        let line = "\(label)epoch \(epoch)/\(epochs) \(bar(Double(batch) / Double(batches))) \(batch)/\(batches)"
            + String(format: "  loss %.4f  acc %5.1f%%  %5.1f img/s  left %@", runningLoss, 100 * runningAccuracy,
                     imagesPerSecond, Self.duration(left))
        write("\r\u{1B}[2K" + line)
    }

    func epochFinished(_ metrics: EpochMetrics, epochs: Int) {
        var line = "\(label)epoch \(metrics.epoch)/\(epochs)"
            + String(format: "  train loss %.4f acc %5.1f%%  val acc %5.1f%%", metrics.trainLoss,
                     100 * metrics.trainAccuracy, 100 * metrics.validation.accuracy)
        for t in metrics.test {
            line += String(format: "  test(rho=%g) %5.1f%%", t.rho, 100 * t.evaluation.accuracy)
        }
        if let adapted = metrics.adaptedTest?.first(where: { $0.rho == 0 }) {
            line += String(format: "  clean adapted %5.1f%%", 100 * adapted.evaluation.accuracy)
        }
        if let robust = metrics.robust {
            line += String(format: "  robust val FGSM %5.1f%% PGD-%d %5.1f%%", 100 * robust.fgsm, robust.pgdSteps, 100 * robust.pgd)
        }
        line += String(format: "  %.1fs  %.1f img/s", metrics.seconds, metrics.imagesPerSecond)
        if let event = metrics.event { line += "  [\(event)]" }
        write((isTerminal ? "\r\u{1B}[2K" : "") + line + "\n")
    }

    func phase(_ description: String, done: Int, of total: Int) {
        if isTerminal {
            let fraction = total == 0 ? 1 : Double(done) / Double(total)
            write("\r\u{1B}[2K\(label)\(description) \(bar(fraction)) \(done)/\(total)" + (done == total ? "\n" : ""))
        } else if done == total {
            write("\(label)\(description): done (\(total))\n")
            lastPhaseLine = Date()
        } else if Date().timeIntervalSince(lastPhaseLine) >= Self.logInterval {
            // A log gets a line at least every half minute of a long phase (N2V's denoiser trains for minutes).
            write("\(label)\(description): \(done)/\(total)\n")
            lastPhaseLine = Date()
        }
    }

    func message(_ text: String) {
        write((isTerminal ? "\r\u{1B}[2K" : "") + label + text + "\n")
    }

    private func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
