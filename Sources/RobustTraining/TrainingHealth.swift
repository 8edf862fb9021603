import Foundation
import MRIData

/// Checks an epoch's figures for the failures a user must hear about, with the fix in the message.
///
/// - Catastrophic overfitting of FGSM training (Wong, Rice and Kolter 2020, section 5.3): the PGD robust
///   accuracy on the validation set falls by more than `robustDrop` (20 points, their early-stopping rule)
///   below its best epoch while the clean validation accuracy stays within `cleanTolerance` (5 points) of that
///   epoch's or above: the model has learnt to defeat FGSM only.
/// - Collapse to one class (any method): every validation image is called the same class although the
///   validation set has several (AT at too large a radius, a diverging learning rate); and the partial form, a class
///   of the validation set that no image is called.
public enum TrainingHealth {
    public static let robustDrop = 0.20
    public static let cleanTolerance = 0.05

    public struct Report {
        public var warnings: [String] = []
        public var catastrophicOverfitting = false
    }

    /// `history`: the epochs before `metrics`.
    public static func check(_ metrics: EpochMetrics, history: [EpochMetrics], configuration: TrainingConfiguration) -> Report {
        var report = Report()
        if let robust = metrics.robust,
           let best = history.filter({ $0.robust != nil }).max(by: { $0.robust!.pgd < $1.robust!.pgd }),
           let bestRobust = best.robust,
           robust.pgd < bestRobust.pgd - robustDrop,
           metrics.validation.accuracy >= best.validation.accuracy - cleanTolerance {
            report.catastrophicOverfitting = true
            let advice = configuration.adversarial.earlyStop
                ? "--at-early-stop keeps the weights of epoch \(best.epoch)"
                : "lower --at-alpha (now \(fraction(configuration.adversarial.alpha))) or pass --at-early-stop to keep the last good epoch"
            report.warnings.append(String(
                format: "catastrophic overfitting at epoch %d: PGD robust accuracy on the validation set fell from %.1f%% (epoch %d) to %.1f%% while clean accuracy is %.1f%% (Wong et al. 2020); %@",
                metrics.epoch, 100 * bestRobust.pgd, best.epoch, 100 * robust.pgd, 100 * metrics.validation.accuracy, advice))
        }
        let confusion = metrics.validation.confusion
        let presentClasses = confusion.filter { $0.reduce(0, +) > 0 }.count
        let predictedClasses = confusion.indices.filter { c in confusion.reduce(0) { $0 + $1[c] } > 0 }
        var advice = "lower --lr (now \(configuration.learningRate))"
        if configuration.method == .at {
            advice = "the attack radius may exceed what separates the classes: lower --at-epsilon (now \(fraction(configuration.adversarial.epsilon))) and --at-alpha, or " + advice
        }
        /// A class by its name (the labels are 0-based indices; manifests and the README number them from 1).
        func name(_ c: Int) -> String { TumourClass(rawValue: c)?.name ?? "class \(c)" }
        if presentClasses > 1, predictedClasses.count == 1 {
            report.warnings.append("every validation image is called \(name(predictedClasses[0])) at epoch \(metrics.epoch): the model has collapsed to one class; \(advice)")
        } else if presentClasses > 1 {
            // A partial collapse: a class with validation images that no image is called.
            let missing = confusion.indices.filter { c in confusion[c].reduce(0, +) > 0 && !predictedClasses.contains(c) }
            if !missing.isEmpty {
                report.warnings.append("no validation image is called \(missing.map(name).joined(separator: " or ")) at epoch \(metrics.epoch) although the set has \(missing.map { String(confusion[$0].reduce(0, +)) }.joined(separator: ", ")) of them: the model has stopped telling that class apart; \(advice)")
            }
        }
        return report
    }

    /// eps as "8/255" when it is a whole number of grey levels.
    static func fraction(_ value: Float) -> String {
        let levels = value * 255
        return abs(levels - levels.rounded()) < 1e-3 ? "\(Int(levels.rounded()))/255" : String(format: "%g", value)
    }
}
