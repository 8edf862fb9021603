import Foundation
import Reporting
import RobustTraining
import Tensor

/// The comparison's figures, built from run records and artifacts.
enum ComparisonFigures {
    static let classNames = ["meningioma", "glioma", "pituitary"]

    static func displayName(_ method: String) -> String {
        switch method {
        case "naive": return "Naive"
        case "at": return "AT (FGSM)"
        case "n2v": return "N2V-Training"
        case "isr": return "ISR"
        case "isp": return "ISP"
        default: return method
        }
    }

    static func rhoText(_ rho: Double) -> String { String(format: "ρ = %g", rho) }

    /// Table 1's headline as bars: one group per noise type and test-noise fraction, one bar per method, on 0-100 %.
    static func accuracyBars(rows: [ResultRow], methods: [String]) -> BarChart {
        var categories: [String] = []
        var keys: [(String, Double)] = []
        for row in rows where !keys.contains(where: { $0.0 == row.noise && $0.1 == row.rho }) {
            keys.append((row.noise, row.rho))
            categories.append("\(row.noise), \(rhoText(row.rho))")
        }
        let series = methods.map { method -> BarChart.Series in
            let cells = keys.map { key in rows.first { $0.method == method && $0.noise == key.0 && $0.rho == key.1 } }
            return BarChart.Series(name: displayName(method),
                                   values: cells.map { 100 * ($0?.lastEpochAccuracy.mean ?? .nan) },
                                   errors: cells.map { 100 * ($0?.lastEpochAccuracy.std ?? 0) })
        }
        // The axis spans 0-100 %: a bar's length is its accuracy (an axis from 30 made a 60 % bar look twice a 45 % one),
        // and reports of different grids compare at a glance; the table has the exact figures.
        return BarChart(title: "Test accuracy at the last epoch (mean ± std over seeds)", categoryLabel: "noise type and test-noise fraction",
                        valueLabel: "test accuracy (%)", categories: categories, series: series, valueRange: 0...100)
    }

    /// Per-epoch curves of one quantity, one series per method (mean ± std over seeds).
    static func curves(records: [RunRecord], noise: String, methods: [String], title: String, yLabel: String,
                       bounds: ClosedRange<Double>? = nil, value: (EpochMetrics) -> Double) -> LineChart {
        let series = methods.compactMap { method -> LineChart.Series? in
            let runs = records.filter { $0.method == method && $0.noiseName == noise }.map { $0.epochs.map(value) }
            return runs.isEmpty ? nil : LineChart.Series(name: displayName(method), runs: runs)
        }
        return LineChart(title: title, xLabel: "epoch", yLabel: yLabel, series: series, integerX: true, valueBounds: bounds)
    }

    static func grey(_ tensor: Tensor, item: Int) -> GreyImage {
        let s = tensor.shape[3]
        let size = tensor.itemCount
        return GreyImage(width: s, height: tensor.shape[2], pixels: Array(tensor.scalars[(item * size)..<((item + 1) * size)]))
    }

    /// The paper's Figure 1: noisy image, tumour mask, ISP perturbation, per example.
    static func figure1(_ artifacts: RunArtifacts, noise: String) -> ImagePanelFigure? {
        let k = artifacts.examplePositions.count
        guard k > 0 else { return nil }
        var panels: [ImagePanel] = []
        for i in 0..<k {
            let noisy = grey(artifacts.noisy, item: i)
            let delta = GreyImage(width: noisy.width, height: noisy.height,
                                  pixels: zip(grey(artifacts.methodVersion, item: i).pixels, noisy.pixels).map { $0 - $1 })
            let name = classNames[artifacts.exampleLabels[i]]
            panels.append(ImagePanel(image: noisy, caption: "noisy (\(noise))\n\(name)"))
            if let masks = artifacts.masks {
                panels.append(ImagePanel(image: noisy, caption: "tumour mask", style: .maskOverlay(mask: grey(masks, item: i))))
            } else {
                panels.append(ImagePanel(image: noisy, caption: "no mask in this data"))
            }
            let share = artifacts.masks.map { energyShareInMask(delta: delta.pixels, mask: grey($0, item: i).pixels) }
            let caption = share.map { String(format: "ISP perturbation\n%.0f%% of energy in the mask (mask: %.0f%% of pixels)", 100 * $0.energy, 100 * $0.area) }
                ?? "ISP perturbation"
            panels.append(ImagePanel(image: delta, caption: caption, style: .diverging(limit: nil)))
        }
        return ImagePanelFigure(title: "Figure 1, ISP, \(noise) noise", panels: panels, columns: 3)
    }

    /// Share of sum(delta^2) inside the mask, and the mask's share of the image.
    static func energyShareInMask(delta: [Float], mask: [Float]) -> (energy: Double, area: Double) {
        var inside = 0.0, total = 0.0, area = 0.0
        for (d, m) in zip(delta, mask) {
            let e = Double(d) * Double(d)
            total += e
            if m > 0.5 { inside += e; area += 1 }
        }
        return (total > 0 ? inside / total : 0, area / Double(max(mask.count, 1)))
    }

    /// The paper's Figure 2: one training image as each method leaves it.
    /// The methods Figure 2 shows beside the clean and noisy image, in its column order.
    static let figure2Methods = ["at", "isp", "n2v"]

    static func figure2(byMethod: [String: RunArtifacts], noise: String) -> ImagePanelFigure? {
        guard let any = byMethod.values.first, !any.examplePositions.isEmpty else { return nil }
        var panels: [ImagePanel] = []
        for i in 0..<any.examplePositions.count {
            if let clean = any.clean { panels.append(ImagePanel(image: grey(clean, item: i), caption: "clean\n\(classNames[any.exampleLabels[i]])")) }
            panels.append(ImagePanel(image: grey(any.noisy, item: i), caption: "noisy (\(noise))"))
            for method in figure2Methods {
                if let a = byMethod[method], i < a.examplePositions.count {
                    panels.append(ImagePanel(image: grey(a.methodVersion, item: i), caption: displayName(method)))
                }
            }
        }
        let columns = (any.clean == nil ? 1 : 2) + figure2Methods.filter { byMethod[$0] != nil }.count
        return ImagePanelFigure(title: "Figure 2, \(noise) noise", panels: panels, columns: columns)
    }
}
