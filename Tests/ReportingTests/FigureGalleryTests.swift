import Foundation
import Testing
@testable import Reporting

/// Example figures shaped like the experiment's real ones (synthetic values, fixed seeds), shared by
/// the figure and report tests. Set ROBUST_MRI_FIGURE_DIR to a directory to keep the PNGs for a look.
enum FigureExamples {
    static let methods = ["Naive", "AT", "N2V-Training", "ISR", "ISP"]

    /// Deterministic pseudo-random numbers in [0, 1) (a linear congruential step; tests only).
    struct LCG {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        mutating func gaussian() -> Double {
            let u = max(next(), 1e-12), v = next()
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
    }

    static func learningCurves() -> LineChart {
        let series = methods.enumerated().map { index, name in
            let y = (1...20).map { epoch in 0.6 + 0.3 * (1 - exp(-Double(epoch) / (3 + Double(index)))) }
            let spread = (1...20).map { 0.01 + 0.02 * exp(-Double($0) / 8) }
            return LineChart.Series(name: name, perEpoch: y, spread: spread)
        }
        return LineChart(title: "Validation accuracy per epoch (mean \u{00B1} std over 5 seeds)", xLabel: "Epoch",
                         yLabel: "Accuracy", series: series, integerX: true)
    }

    static func table1Bars() -> BarChart {
        let means: [[Double]] = [[87.77, 86.50, 88.89, 88.44], [88.38, 86.85, 88.95, 89.04], [88.12, 83.92, 89.08, 86.78],
                                 [88.79, 88.12, 89.17, 89.49], [89.52, 89.49, 90.73, 90.54]]
        let stds: [[Double]] = [[0.84, 3.38, 0.88, 2.43], [1.47, 1.62, 0.94, 0.54], [1.69, 2.52, 1.70, 1.79],
                                [1.75, 2.28, 1.09, 1.82], [2.61, 1.45, 1.58, 1.19]]
        return BarChart(title: "Test accuracy by method and noise (mean \u{00B1} std, 5 trials)", categoryLabel: "Noise type",
                        valueLabel: "Test accuracy (%)",
                        categories: ["Gaussian, \u{03C1}=1", "Rician, \u{03C1}=1", "Gaussian, \u{03C1}=0", "Rician, \u{03C1}=0"],
                        series: zip(methods, zip(means, stds)).map { BarChart.Series(name: $0, values: $1.0, errors: $1.1) },
                        valueRange: 80...95)
    }

    static func confusion() -> ConfusionMatrixFigure {
        ConfusionMatrixFigure(title: "ISP, Gaussian noise: test confusion matrix", counts: [[120, 22, 6], [9, 270, 7], [2, 5, 180]])
    }

    static func influenceHistogram(logCount: Bool = false) -> HistogramFigure {
        var rng = LCG(state: 7)
        let glioma = (0..<800).map { _ in 2e-4 * rng.gaussian() + 5e-5 }
        let meningioma = (0..<500).map { _ in 3e-4 * rng.gaussian() - 8e-5 }
        return HistogramFigure(title: "Influence scores I_up,loss of the training images", valueLabel: "Influence score",
                               groups: [.init(name: "glioma", values: glioma), .init(name: "meningioma", values: meningioma)],
                               logCount: logCount)
    }

    /// A 64x64 phantom: a bright ellipse (brain) with a small brighter disc (tumour) and its mask.
    static func phantom(size: Int = 64) -> (image: GreyImage, mask: GreyImage, perturbation: GreyImage) {
        var image = [Float](repeating: 0, count: size * size), mask = image, perturbation = image
        var rng = LCG(state: 3)
        let c = Double(size) / 2
        for y in 0..<size {
            for x in 0..<size {
                let dx = (Double(x) - c) / (0.42 * Double(size)), dy = (Double(y) - c) / (0.36 * Double(size))
                let brain = dx * dx + dy * dy < 1
                let tx = Double(x) - 0.62 * Double(size), ty = Double(y) - 0.42 * Double(size)
                let tumour = tx * tx + ty * ty < Double(size * size) / 100
                let i = y * size + x
                image[i] = Float(min(max((brain ? 0.45 : 0.02) + (tumour ? 0.35 : 0) + 0.05 * rng.gaussian(), 0), 1))
                mask[i] = tumour ? 1 : 0
                perturbation[i] = Float(0.02 * exp(-(tx * tx + ty * ty) / 60) * (tx > 0 ? 1 : -1) + 0.002 * rng.gaussian())
            }
        }
        return (GreyImage(width: size, height: size, pixels: image), GreyImage(width: size, height: size, pixels: mask),
                GreyImage(width: size, height: size, pixels: perturbation))
    }

    static func figure1() -> ImagePanelFigure {
        let p = phantom()
        return ImagePanelFigure(title: "Figure 1: where ISP perturbs", panels: [
            ImagePanel(image: p.image, caption: "Noisy image\nglioma"),
            ImagePanel(image: p.image, caption: "Tumour mask", style: .maskOverlay(mask: p.mask)),
            ImagePanel(image: p.perturbation, caption: "ISP perturbation \u{03B4}", style: .diverging(limit: nil)),
        ], columns: 3, panelSize: 200)
    }

    static func figure2() -> ImagePanelFigure {
        let p = phantom(size: 96)
        var rng = LCG(state: 11)
        var panels: [ImagePanel] = []
        for noise in ["Gaussian", "Rician"] {
            for (method, level) in [("Clean", 0.0), ("Noisy", 0.12), ("AT", 0.13), ("ISP", 0.11), ("N2V", 0.03)] {
                let pixels = p.image.pixels.map { Float(min(max(Double($0) + level * rng.gaussian(), 0), 1)) }
                panels.append(ImagePanel(image: GreyImage(width: 96, height: 96, pixels: pixels), caption: "\(method)\n\(noise)"))
            }
        }
        return ImagePanelFigure(title: "Figure 2: one training image as each method leaves it", panels: panels,
                                columns: 5, panelSize: 160)
    }

    static func contactSheet() -> ImagePanelFigure {
        let p = phantom()
        let panels = (0..<8).map { index in
            ImagePanel(image: p.image, caption: "#\(1000 + index) \(index % 2 == 0 ? "glioma" : "pituitary")\n"
                            + "I = \(String(format: "%.2e", 4e-4 / Double(index + 1)))")
        }
        return ImagePanelFigure(title: "Most harmful training images (largest I_up,loss)", panels: panels, columns: 4,
                                panelSize: 128, resampling: .nearest)
    }

    static func all() -> [(String, any RenderableFigure)] {
        [("learning-curves", learningCurves()), ("table1-bars", table1Bars()), ("confusion", confusion()),
         ("influence-histogram", influenceHistogram()), ("influence-histogram-log", influenceHistogram(logCount: true)),
         ("figure1", figure1()), ("figure2", figure2()), ("contact-sheet", contactSheet())]
    }
}

@Suite struct FigureGalleryTests {
    /// Every example renders to a decodable PNG that is not a blank page.
    @Test func examplesRenderAndDecode() throws {
        let directory = ProcessInfo.processInfo.environment["ROBUST_MRI_FIGURE_DIR"].map { URL(fileURLWithPath: $0) }
        for (name, figure) in FigureExamples.all() {
            let png = try figure.renderPNG()
            let decoded = try DecodedPNG(data: png)
            let nonWhite = decoded.pixels.filter { $0 != 0xFFFFFF }.count
            #expect(nonWhite > decoded.pixels.count / 50, "\(name): only \(nonWhite) non-white pixels")
            if let directory { try figure.writePNG(to: directory.appendingPathComponent("\(name).png")) }
        }
    }
}
