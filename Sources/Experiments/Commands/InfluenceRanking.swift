import Foundation
import MRIData
import NN
import Reporting
import RobustTraining
import Tensor

/// Influence of every training point of a saved model (`robust-mri influence --checkpoint`): the noisy
/// training set rebuilt exactly as `train` builds it (same data settings and seed), Eq. 7 scores with the
/// configured solver, and in the output directory
/// - `influence.csv`: rank (most harmful first), index, source id, label, class name, I_up score, harmful/helpful;
/// - `most-harmful.png`, `most-helpful.png`: contact sheets;
/// - `figure1-<rank>-<id>.png`: the paper's Figure 1 for the most harmful images with a tumour mask
///   (noisy image / mask / ISP perturbation delta = -epsilon I_pert, diverging colours);
/// - `summary.json`: solver report, and the share of the perturbation's energy sum(delta^2) inside the
///   tumour mask against the mask's share of the image, per image (every image with a mask) and on average.
package enum InfluenceRanking {
    package struct Settings: Sendable {
        package var checkpoint: String
        package var out: String
        /// Figure 1 panels: the this-many most harmful images that have a mask.
        package var figure1Count = 4
        /// Images per contact sheet.
        package var sheetCount = 16
        /// The Noise2Void denoiser the model's run put in front of it (an n2v run's), and its path: the training and
        /// validation images go through it first, so the model is scored on what it was trained on.
        package var denoiser: (denoiser: Noise2VoidDenoiser, path: String)?

        package init(checkpoint: String, out: String, figure1Count: Int = 4, sheetCount: Int = 16,
                     denoiser: (denoiser: Noise2VoidDenoiser, path: String)? = nil) {
            self.checkpoint = checkpoint
            self.out = out
            self.figure1Count = figure1Count
            self.sheetCount = sheetCount
            self.denoiser = denoiser
        }
    }

    package enum RankingError: Error, CustomStringConvertible {
        case imageSizeMismatch(checkpoint: String, model: Int, data: Int)
        package var description: String {
            switch self {
            case let .imageSizeMismatch(checkpoint, model, data):
                return "\(checkpoint) is a model for \(model) px images but the data is loaded at \(data) px: pass --image-size \(model)"
            }
        }
    }

    /// Energy of one image's perturbation inside its tumour mask.
    package struct MaskEnergy: Codable, Sendable {
        package var index: Int
        package var sourceID: Int
        package var score: Double
        /// sum over the mask of delta^2 / sum of delta^2.
        package var energyInMask: Double
        /// Mask pixels / image pixels.
        package var maskShare: Double
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case index, sourceID = "source_id", score, energyInMask = "energy_in_mask", maskShare = "mask_share"
        }
    }

    package struct Summary: Codable, Sendable {
        package var n: Int
        package var d: Int
        package var solver: InverseHVPReportSummary
        package var validationLoss: Double
        package var harmfulCount: Int
        package var scoreMin: Double
        package var scoreMax: Double
        package var epsilon: Double
        package var step: String
        /// Averages over the images with a non-empty mask (nil without masks).
        package var meanEnergyInMask: Double?
        package var meanMaskShare: Double?
        package var figure1: [String]
        package var featureSeconds: Double
        package var scoreSeconds: Double
        package var perturbationSeconds: Double
        package var perImage: [MaskEnergy]
        /// The denoiser the images went through first (an n2v run's), if any.
        package var denoiser: String?
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case n, d, solver, denoiser, validationLoss = "validation_loss", harmfulCount = "harmful_count",
                 scoreMin = "score_min", scoreMax = "score_max", epsilon, step,
                 meanEnergyInMask = "mean_energy_in_mask", meanMaskShare = "mean_mask_share", figure1,
                 featureSeconds = "feature_seconds", scoreSeconds = "score_seconds",
                 perturbationSeconds = "perturbation_seconds", perImage = "per_image"
        }
    }

    /// The solver report's fields with snake-case keys.
    package struct InverseHVPReportSummary: Codable, Sendable {
        package var name: String
        package var iterations: Int
        package var relativeResidual: Double
        package var effectiveDamping: Double
        package var lissaScale: Double?
        package var topEigenvalue: Double?
        /// LiSSA stopped long before convergence: the warning with its fix (`InverseHVPReport.truncationWarning`).
        package var warning: String? = nil
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case name, iterations, relativeResidual = "relative_residual", effectiveDamping = "effective_damping",
                 lissaScale = "lissa_scale", topEigenvalue = "top_eigenvalue", warning
        }
    }

    package static func run(_ settings: Settings, run: RunSettings, data: ExperimentData,
                           observer: any TrainingObserver = SilentObserver()) throws -> Summary {
        let loaded = try SavedModel.load(from: settings.checkpoint, threads: run.training.threads).model
        guard loaded.configuration.imageSize == data.dataset.imageSize else {
            throw RankingError.imageSizeMismatch(checkpoint: settings.checkpoint, model: loaded.configuration.imageSize,
                                                 data: data.dataset.imageSize)
        }
        var sets = try data.trainingData(run)
        if let (denoiser, path) = settings.denoiser {
            observer.message("denoising the training and validation images with \(path) (the model's run trained on denoised images)")
            sets.train.images = denoiser.denoised(sets.train.images, batchSize: 8)
            sets.validation.images = denoiser.denoised(sets.validation.images, batchSize: 8)
        }
        // --bn-statistics running: the statistics stored in the file; precise (or clean-validation): recomputed over the
        // training images as `train` does (a model saved by a stable-recipe run already carries these).
        let model = run.training.recipe.batchNormStatistics == .running ? loaded
            : loaded.withPreciseStatistics(over: Trainer(configuration: run.training).preciseStatisticsImages(sets.train.images))
        let isp = run.training.isp
        let computation = InfluenceComputation(settings: run.training.influence, batchSize: run.training.batchSize, seed: run.training.seed,
                                               threads: run.training.threads)
        let result = try computation.run(model: model, trainImages: sets.train.images, trainLabels: sets.train.labels,
                                         validation: sets.validation, observer: observer)
        let scores = result.scores
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        try AtomicFile.createDirectories(settings.out)
        try AtomicFile.write(csv(order: order, scores: scores, set: sets.train), to: "\(settings.out)/influence.csv")
        let size = sets.train.images.shape[2]
        func image(_ tensor: Tensor, _ i: Int) -> GreyImage {
            GreyImage(width: size, height: size, pixels: Array(tensor.items(i..<(i + 1)).scalars))
        }
        func caption(_ i: Int) -> String {
            "\(className(sets.train.labels[i])) #\(sets.train.ids[i])\nscore " + String(format: "%.2e", scores[i])
        }
        let sheetCount = Swift.min(settings.sheetCount, order.count)
        let columns = Swift.max(1, Int(Double(sheetCount).squareRoot().rounded(.up)))
        for (name, indices) in [("most-harmful", Array(order.prefix(sheetCount))), ("most-helpful", Array(order.reversed().prefix(sheetCount)))] {
            let panels = indices.map { ImagePanel(image: image(sets.train.images, $0), caption: caption($0)) }
            try ImagePanelFigure(title: name.replacingOccurrences(of: "-", with: " ") + " training images (I_up)", panels: panels,
                                 columns: columns, panelSize: 160)
                .writePNG(to: URL(fileURLWithPath: "\(settings.out)/\(name).png"))
        }

        // Perturbations of every image with a mask (energy shares), and Figure 1 for the most harmful ones.
        let masks = sets.trainMasks
        let pixels = size * size
        func maskSum(_ i: Int) -> Double {
            guard let masks else { return 0 }
            var total = 0.0
            for j in 0..<pixels { total += Double(masks.scalars[i * pixels + j]) }
            return total
        }
        let withMask = masks == nil ? [] : order.filter { maskSum($0) > 0 }
        let figureIndices = Set(withMask.prefix(settings.figure1Count))
        var energies: [MaskEnergy] = []
        var figures: [String] = []
        let perturbationStart = ContinuousClock.now
        try computation.forEachPerturbationInfluence(
            result, model: model, images: sets.train.images, indices: withMask,
            progress: { observer.phase("influence: perturbations", done: $0, of: $1) }) { batch, iPert in
            let delta = ISPMethod.step(iPert, epsilon: isp.epsilon, kind: isp.step)
            for (row, i) in batch.enumerated() {
                guard let masks else { continue }
                var inside = 0.0, total = 0.0
                for j in 0..<pixels {
                    let e = Double(delta.scalars[row * pixels + j] * delta.scalars[row * pixels + j])
                    total += e
                    if masks.scalars[i * pixels + j] >= 0.5 { inside += e }
                }
                energies.append(MaskEnergy(index: i, sourceID: sets.train.ids[i], score: scores[i],
                                           energyInMask: total > 0 ? inside / total : 0, maskShare: maskSum(i) / Double(pixels)))
                if figureIndices.contains(i) {
                    let rank = order.firstIndex(of: i).map { $0 + 1 } ?? 0
                    let file = "figure1-\(rank)-\(sets.train.ids[i]).png"
                    let panels = [
                        ImagePanel(image: image(sets.train.images, i), caption: "noisy: " + caption(i)),  // two short lines (one long line was cut at "score 8.52e…")
                        ImagePanel(image: image(sets.train.images, i), caption: "tumour mask\nshare " + String(format: "%.1f%%", 100 * maskSum(i) / Double(pixels)),
                                   style: .maskOverlay(mask: image(masks, i))),
                        ImagePanel(image: image(delta, row), caption: "ISP perturbation\n" + String(format: "%.0f%% of its energy in the mask", 100 * (energies.last?.energyInMask ?? 0)),
                                   style: .diverging(limit: nil)),
                    ]
                    try ImagePanelFigure(title: "Figure 1: rank \(rank) (most harmful first)", panels: panels, columns: 3)
                        .writePNG(to: URL(fileURLWithPath: "\(settings.out)/\(file)"))
                    figures.append(file)
                }
            }
        }
        let perturbationSeconds = InfluenceComputation.seconds(ContinuousClock.now - perturbationStart)
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        let report = result.report
        let summary = Summary(
            n: scores.count, d: model.configuration.featureCount,
            solver: InverseHVPReportSummary(name: report.solver, iterations: report.iterations, relativeResidual: report.relativeResidual,
                                            effectiveDamping: report.effectiveDamping, lissaScale: report.lissaScale,
                                            topEigenvalue: report.largestEigenvalue, warning: report.truncationWarning),
            validationLoss: result.validationLoss, harmfulCount: scores.filter { $0 > 0 }.count,
            scoreMin: scores.min() ?? 0, scoreMax: scores.max() ?? 0, epsilon: isp.epsilon, step: isp.step.rawValue,
            meanEnergyInMask: mean(energies.map(\.energyInMask)), meanMaskShare: mean(energies.map(\.maskShare)),
            figure1: figures.sorted(), featureSeconds: result.featureSeconds, scoreSeconds: result.scoreSeconds,
            perturbationSeconds: perturbationSeconds, perImage: energies.sorted { $0.score > $1.score },
            denoiser: settings.denoiser?.path)
        try SingleRun.writeJSON(summary, to: "\(settings.out)/summary.json")
        return summary
    }

    static func className(_ label: Int) -> String {
        TumourClass(rawValue: label)?.name ?? "class \(label)"
    }

    /// rank,index,source_id,class_index,class,i_up,kind; rows in `order` (most harmful first). `index` is the image's
    /// place in the training set (0-based), `source_id` its id in the data (the manifest's `id`, figshare's 1-based
    /// slice number), `class_index` the model's output index (0 meningioma, 1 glioma, 2 pituitary: figshare's 1-based
    /// `label` minus 1; the column was called `label`, which a join with a manifest's 1-based `label` got wrong).
    static func csv(order: [Int], scores: [Double], set: LabelledImages) -> String {
        var text = "rank,index,source_id,class_index,class,i_up,kind\n"
        for (rank, i) in order.enumerated() {
            text += "\(rank + 1),\(i),\(set.ids[i]),\(set.labels[i]),\(className(set.labels[i])),"
                + String(format: "%.6e", scores[i]) + "," + (scores[i] > 0 ? "harmful" : "helpful") + "\n"
        }
        return text
    }

    /// Lines for the terminal.
    package static func text(_ summary: Summary, out: String) -> String {
        var lines = summary.denoiser.map { ["images denoised by \($0) first (the model's n2v run trained on denoised images)"] } ?? []
        lines += ["\(summary.n) training points, D = \(summary.d): solver \(summary.solver.name), \(summary.solver.iterations) it., residual "
                     + String(format: "%.1e", summary.solver.relativeResidual) + ", damping " + String(format: "%g", summary.solver.effectiveDamping)
                     + (summary.solver.lissaScale.map { ", LiSSA scale " + String(format: "%.4g", $0) } ?? "")
                     + (summary.solver.topEigenvalue.map { " (Hessian's top eigenvalue " + String(format: "%.4g", $0) + ")" } ?? ""),
                     ] + (summary.solver.warning.map { ["warning: " + $0] } ?? []) + [
                     "scores in [" + String(format: "%.3e", summary.scoreMin) + ", " + String(format: "%.3e", summary.scoreMax)
                     + "], \(summary.harmfulCount) harmful (I_up > 0)"]
        if let energy = summary.meanEnergyInMask, let share = summary.meanMaskShare {
            lines.append("ISP perturbation (epsilon \(summary.epsilon), \(summary.step)): on average " + String(format: "%.1f%%", 100 * energy)
                         + " of its energy inside the tumour mask, which covers " + String(format: "%.1f%%", 100 * share)
                         + " of the image (\(summary.perImage.count) images with masks)")
            for e in summary.perImage.prefix(summary.figure1.count) {
                lines.append("  #\(e.sourceID): " + String(format: "%.1f%% of the energy in a mask covering %.1f%%", 100 * e.energyInMask, 100 * e.maskShare))
            }
        } else {
            lines.append("no tumour masks in this data: no energy shares or Figure 1")
        }
        lines.append(String(format: "times: features %.1f s, scores %.1f s, perturbations %.1f s; files in ", summary.featureSeconds,
                            summary.scoreSeconds, summary.perturbationSeconds) + out)
        return lines.joined(separator: "\n")
    }
}
