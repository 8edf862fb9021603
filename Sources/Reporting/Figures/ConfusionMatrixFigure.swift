import Foundation

/// A confusion-matrix heatmap: rows are true classes, columns predicted classes. Each cell shows its count
/// and its row-normalised percentage (the share of that true class predicted as the column's class, so the
/// diagonal is per-class recall); the fill encodes the percentage on a white-to-blue scale with a colour bar.
public struct ConfusionMatrixFigure: RenderableFigure, Equatable {
    public var title: String
    public var classNames: [String]
    /// counts[trueClass][predictedClass].
    public var counts: [[Int]]
    public var width: Int
    public var height: Int

    public init(title: String, classNames: [String] = ["meningioma", "glioma", "pituitary"], counts: [[Int]],
                width: Int = 640, height: Int = 540) {
        precondition(counts.count == classNames.count && counts.allSatisfy { $0.count == classNames.count },
                     "ConfusionMatrixFigure: counts must be \(classNames.count)x\(classNames.count), got "
                        + "\(counts.map { $0.count })")
        self.title = title
        self.classNames = classNames
        self.counts = counts
        self.width = width
        self.height = height
    }

    /// Row-normalised fractions; a row with no samples is all zeros.
    public var rowFractions: [[Double]] {
        counts.map { row in
            let total = row.reduce(0, +)
            return row.map { total > 0 ? Double($0) / Double(total) : 0 }
        }
    }

    public func renderPNG() throws -> Data {
        let canvas = try FigureCanvas(width: width, height: height)
        let n = classNames.count
        let pad = ChartLayout.padding
        let nameWidth = classNames.map { canvas.textWidth($0, size: ChartLayout.tickSize) }.max() ?? 0
        let colourBarWidth = 16.0, colourBarLabels = canvas.textWidth("100%", size: ChartLayout.tickSize) + 8
        let left = pad + ChartLayout.labelSize * 1.6 + nameWidth + 10
        let top = pad + (title.isEmpty ? 0 : ChartLayout.titleSize * 1.7)
        let bottom = pad + ChartLayout.labelSize * 1.8 + ChartLayout.tickSize * 1.35 + 8
        let right = pad + colourBarWidth + colourBarLabels + 24
        let side = max(min(Double(width) - left - right, Double(height) - top - bottom), 30)
        let cell = side / Double(max(n, 1))
        let fractions = rowFractions

        if !title.isEmpty {
            canvas.text(canvas.fitted(title, size: ChartLayout.titleSize, maxWidth: Double(width) - 2 * pad, bold: true),
                        x: Double(width) / 2, y: pad, size: ChartLayout.titleSize, anchor: .middle, baseline: .top, bold: true)
        }
        let countSize = min(max(cell * 0.16, 11), 20), percentSize = min(max(cell * 0.12, 10), 15)
        for r in 0..<n {
            for c in 0..<n {
                let x = left + Double(c) * cell, y = top + Double(r) * cell
                let fill = Colormap.sequential(fractions[r][c])
                canvas.fillRect(x: x, y: y, width: cell, height: cell, color: fill)
                let ink: RGBColor = fill.luminance < 0.35 ? .white : .text
                canvas.text(String(counts[r][c]), x: x + cell / 2, y: y + cell / 2 - 2, size: countSize, color: ink,
                            anchor: .middle, baseline: .bottom, bold: true)
                canvas.text(String(format: "%.1f%%", 100 * fractions[r][c]), x: x + cell / 2, y: y + cell / 2 + 3,
                            size: percentSize, color: ink, anchor: .middle, baseline: .top)
            }
        }
        // Cell borders, then class names on both axes.
        for i in 0...n {
            let offset = Double(i) * cell
            canvas.line(from: (left + offset, top), to: (left + offset, top + side), color: .white, width: 1)
            canvas.line(from: (left, top + offset), to: (left + side, top + offset), color: .white, width: 1)
        }
        canvas.strokeRect(x: left, y: top, width: side, height: side, color: .axis)
        for (i, name) in classNames.enumerated() {
            let middle = Double(i) * cell + cell / 2
            canvas.text(name, x: left - 8, y: top + middle, size: ChartLayout.tickSize, anchor: .end, baseline: .middle)
            canvas.text(canvas.fitted(name, size: ChartLayout.tickSize, maxWidth: cell - 4), x: left + middle,
                        y: top + side + 8, size: ChartLayout.tickSize, anchor: .middle, baseline: .top)
        }
        canvas.text("True class", x: pad, y: top + side / 2, size: ChartLayout.labelSize, anchor: .middle,
                    baseline: .top, rotation: -Double.pi / 2)
        canvas.text("Predicted class", x: left + side / 2, y: top + side + 8 + ChartLayout.tickSize * 1.35 + 8,
                    size: ChartLayout.labelSize, anchor: .middle, baseline: .top)
        ColourBar(x: left + side + 24, y: top, width: colourBarWidth, height: side, lower: 0, upper: 100,
                  ticks: [0, 20, 40, 60, 80, 100], labels: ["0%", "20%", "40%", "60%", "80%", "100%"],
                  title: "", color: { Colormap.sequential($0 / 100) }).draw(on: canvas)
        return try canvas.pngData()
    }
}

/// A vertical colour bar: `lower` at the bottom, `upper` at the top, with tick labels on the right.
struct ColourBar {
    var x: Double
    var y: Double
    var width: Double
    var height: Double
    var lower: Double
    var upper: Double
    var ticks: [Double]
    var labels: [String]
    var title: String
    var fontSize = ChartLayout.tickSize
    var color: (Double) -> RGBColor

    func draw(on canvas: FigureCanvas) {
        // Whole-pixel rows: fractional rows would be blended twice by antialiasing and look washed out.
        let (x, y) = (x.rounded(), y.rounded())
        let rows = max(Int(height.rounded()), 1)
        for row in 0..<rows {
            let value = upper - (upper - lower) * (Double(row) + 0.5) / Double(rows)
            canvas.fillRect(x: x, y: y + Double(row), width: width.rounded(), height: 1, color: color(value))
        }
        canvas.strokeRect(x: x - 0.5, y: y - 0.5, width: width.rounded() + 1, height: Double(rows) + 1, color: .axis)
        for (tick, label) in zip(ticks, labels) {
            let ty = y + (upper - tick) / (upper - lower) * height
            canvas.line(from: (x + width, ty), to: (x + width + 4, ty), color: .axis)
            canvas.text(label, x: x + width + 7, y: ty, size: fontSize, anchor: .start, baseline: .middle)
        }
        if !title.isEmpty {
            canvas.text(title, x: x + width / 2, y: y - 6, size: fontSize, anchor: .middle, baseline: .bottom)
        }
    }
}
