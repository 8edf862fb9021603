import Foundation

/// Shared layout and drawing of a 2-D chart: title, plot rectangle, ticks, grid, axis labels, legend.
///
/// Layout (pixels): the title sits on top, centred over the plot; y tick labels and the rotated y label
/// on the left; x tick labels and the x label at the bottom; the legend, when there is one, to the right
/// of the plot so that it never covers data.
struct ChartLayout {
    /// Font sizes in pixels, chosen to stay readable when the PNG is shown at 100% in a report.
    static let titleSize = 18.0
    static let labelSize = 15.0
    static let tickSize = 13.0
    static let legendSize = 13.0
    static let padding = 14.0

    /// The plot rectangle.
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var right: Double { left + width }
    var bottom: Double { top + height }

    /// Data ranges mapped onto the plot rectangle.
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    var logY = false

    func px(_ x: Double) -> Double {
        left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width
    }

    func py(_ y: Double) -> Double {
        if logY {
            let (low, high) = (log10(yRange.lowerBound), log10(yRange.upperBound))
            return bottom - (log10(max(y, yRange.lowerBound)) - low) / (high - low) * height
        }
        return bottom - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * height
    }

    /// Computes margins for the given texts and returns the layout.
    static func make(canvas: FigureCanvas, title: String, xLabel: String, yLabel: String,
                     yTickLabels: [String], legend: [LegendEntry],
                     xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, logY: Bool = false) -> ChartLayout {
        let top = padding + (title.isEmpty ? 0 : titleSize * 1.7)
        let yTickWidth = yTickLabels.map { canvas.textWidth($0, size: tickSize) }.max() ?? 0
        let left = padding + (yLabel.isEmpty ? 0 : labelSize * 1.6) + yTickWidth + 10
        let bottom = padding + (xLabel.isEmpty ? 0 : labelSize * 1.8) + tickSize * 1.35 + 8
        let legendWidth = LegendEntry.width(legend, canvas: canvas)
        let right = padding + (legendWidth > 0 ? legendWidth + 16 : 6)
        let width = max(Double(canvas.width) - left - right, 40)
        let height = max(Double(canvas.height) - top - bottom, 40)
        return ChartLayout(left: left, top: top, width: width, height: height,
                           xRange: xRange, yRange: yRange, logY: logY)
    }

    /// Title centred over the plot.
    func drawTitle(_ title: String, canvas: FigureCanvas) {
        guard !title.isEmpty else { return }
        let text = canvas.fitted(title, size: Self.titleSize, maxWidth: Double(canvas.width) - 2 * Self.padding, bold: true)
        let centre = min(max(left + width / 2, Self.padding + canvas.textWidth(text, size: Self.titleSize, bold: true) / 2),
                         Double(canvas.width) - Self.padding - canvas.textWidth(text, size: Self.titleSize, bold: true) / 2)
        canvas.text(text, x: centre, y: Self.padding, size: Self.titleSize, anchor: .middle, baseline: .top, bold: true)
    }

    /// Horizontal grid lines and y tick labels; the rotated y label.
    func drawYAxis(ticks: [Double], labels: [String], label: String, canvas: FigureCanvas) {
        for (tick, text) in zip(ticks, labels) {
            let y = py(tick)
            canvas.line(from: (left, y), to: (right, y), color: .grid)
            canvas.line(from: (left - 5, y), to: (left, y), color: .axis)
            canvas.text(text, x: left - 8, y: y, size: Self.tickSize, color: .text, anchor: .end, baseline: .middle)
        }
        if !label.isEmpty {
            canvas.text(canvas.fitted(label, size: Self.labelSize, maxWidth: height), x: Self.padding,
                        y: top + height / 2, size: Self.labelSize, anchor: .middle, baseline: .top, rotation: -Double.pi / 2)
        }
    }

    /// Vertical grid lines (optional) and x tick labels at numeric positions; the x label.
    func drawXAxis(ticks: [Double], labels: [String], label: String, grid: Bool, canvas: FigureCanvas) {
        for (tick, text) in zip(ticks, labels) {
            let x = px(tick)
            if grid { canvas.line(from: (x, top), to: (x, bottom), color: .grid) }
            canvas.line(from: (x, bottom), to: (x, bottom + 5), color: .axis)
            canvas.text(text, x: x, y: bottom + 8, size: Self.tickSize, anchor: .middle, baseline: .top)
        }
        drawXLabel(label, canvas: canvas)
    }

    func drawXLabel(_ label: String, canvas: FigureCanvas) {
        guard !label.isEmpty else { return }
        canvas.text(canvas.fitted(label, size: Self.labelSize, maxWidth: width), x: left + width / 2,
                    y: Double(canvas.height) - Self.padding, size: Self.labelSize, anchor: .middle, baseline: .bottom)
    }

    /// The left and bottom axis lines (drawn last, over grid and data edges).
    func drawFrame(canvas: FigureCanvas) {
        canvas.line(from: (left, top), to: (left, bottom), color: .axis)
        canvas.line(from: (left, bottom), to: (right, bottom), color: .axis)
    }

    /// The legend, right of the plot, top-aligned with it.
    func drawLegend(_ entries: [LegendEntry], canvas: FigureCanvas) {
        guard !entries.isEmpty else { return }
        let x = right + 16
        var y = top + 4
        let rowHeight = Self.legendSize * 1.7
        for entry in entries {
            let middle = y + rowHeight / 2
            switch entry.swatch {
            case .line(let dashed):
                canvas.setDash(dashed ? [6, 4] : [])
                canvas.line(from: (x, middle), to: (x + 22, middle), color: entry.color, width: 2.5, crisp: false)
                canvas.setDash([])
            case .box:
                canvas.fillRect(x: x + 3, y: middle - 7, width: 16, height: 14, color: entry.color, alpha: entry.alpha)
                canvas.strokeRect(x: x + 3.5, y: middle - 6.5, width: 15, height: 13, color: entry.color)
            }
            canvas.text(entry.name, x: x + 30, y: middle, size: Self.legendSize, anchor: .start, baseline: .middle)
            y += rowHeight
        }
    }
}

/// One legend row: a swatch in the series colour and the series name.
struct LegendEntry {
    enum Swatch { case line(dashed: Bool), box }
    var name: String
    var color: RGBColor
    var swatch: Swatch
    var alpha: Double = 1

    /// Width the legend needs (0 when empty): swatch, gap, longest name.
    static func width(_ entries: [LegendEntry], canvas: FigureCanvas) -> Double {
        guard !entries.isEmpty else { return 0 }
        return 30 + (entries.map { canvas.textWidth($0.name, size: ChartLayout.legendSize) }.max() ?? 0)
    }
}
