import Foundation

/// A grouped bar chart with error bars: one group per category along x (e.g. noise type), one bar per
/// series inside each group (e.g. method), bar height = mean, whisker = mean -+ error (e.g. std over seeds).
/// Serves Table 1's accuracies.
///
/// Bars start at the lower end of the value axis. By default that axis includes 0, so bar lengths are
/// proportional to the values; a `valueRange` that starts above 0 zooms in (state it in the caption).
public struct BarChart: RenderableFigure, Equatable {
    /// One series: a value (and optional error) per category; NaN leaves a gap.
    public struct Series: Sendable, Equatable {
        public var name: String
        public var values: [Double]
        public var errors: [Double]?

        public init(name: String, values: [Double], errors: [Double]? = nil) {
            precondition(errors.map { $0.count == values.count } ?? true,
                         "BarChart.Series '\(name)': \(errors?.count ?? 0) errors, \(values.count) values")
            self.name = name
            self.values = values
            self.errors = errors
        }
    }

    public var title: String
    public var categoryLabel: String
    public var valueLabel: String
    public var categories: [String]
    public var series: [Series]
    public var valueRange: ClosedRange<Double>?
    /// Print each mean above its bar (fits when bars are at least ~34 px wide).
    public var showValues: Bool
    public var width: Int
    public var height: Int

    public init(title: String, categoryLabel: String, valueLabel: String, categories: [String], series: [Series],
                valueRange: ClosedRange<Double>? = nil, showValues: Bool = false, width: Int = 900, height: Int = 520) {
        for s in series {
            precondition(s.values.count == categories.count,
                         "BarChart: series '\(s.name)' has \(s.values.count) values for \(categories.count) categories")
        }
        self.title = title
        self.categoryLabel = categoryLabel
        self.valueLabel = valueLabel
        self.categories = categories
        self.series = series
        self.valueRange = valueRange
        self.showValues = showValues
        self.width = width
        self.height = height
    }

    private func fittedRange() -> ClosedRange<Double> {
        if let valueRange { return valueRange }
        var low = 0.0, high = 0.0
        for s in series {
            for (i, value) in s.values.enumerated() where value.isFinite {
                let error = s.errors.map { $0[i].isFinite ? abs($0[i]) : 0 } ?? 0
                low = min(low, value - error)
                high = max(high, value + error)
            }
        }
        if high == low { high = low + 1 }
        let span = high - low
        return AxisTicks.niceRange(lower: low < 0 ? low - span * 0.04 : low, upper: high + span * (showValues ? 0.1 : 0.04),
                                   targetCount: max(3, height / 90))
    }

    public func renderPNG() throws -> Data {
        let canvas = try FigureCanvas(width: width, height: height)
        let range = fittedRange()
        let ticks = AxisTicks.ticks(lower: range.lowerBound, upper: range.upperBound, targetCount: max(3, height / 90))
        let labels = AxisTicks.labels(for: ticks)
        let legend = series.enumerated().map { index, s in
            LegendEntry(name: s.name, color: Colormap.seriesColor(index), swatch: .box, alpha: 0.85)
        }
        let yTitle = valueLabel + labels.multiplierSuffix
        let layout = ChartLayout.make(canvas: canvas, title: title, xLabel: categoryLabel, yLabel: yTitle,
                                      yTickLabels: labels.labels, legend: legend,
                                      xRange: 0...Double(max(categories.count, 1)), yRange: range)
        layout.drawTitle(title, canvas: canvas)
        layout.drawYAxis(ticks: ticks, labels: labels.labels, label: yTitle, canvas: canvas)

        // Each category owns a unit of x; bars fill 80% of it.
        let groupWidth = layout.width / Double(max(categories.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let baseline = range.contains(0) ? layout.py(0) : layout.bottom
        for (c, category) in categories.enumerated() {
            let centre = layout.px(Double(c) + 0.5)
            canvas.text(canvas.fitted(category, size: ChartLayout.tickSize, maxWidth: groupWidth - 6), x: centre,
                        y: layout.bottom + 8, size: ChartLayout.tickSize, anchor: .middle, baseline: .top)
            canvas.clip(x: layout.left, y: layout.top, width: layout.width, height: layout.height)
            for (s, item) in series.enumerated() {
                let value = item.values[c]
                guard value.isFinite else { continue }
                let color = Colormap.seriesColor(s)
                let x = centre - groupWidth * 0.4 + Double(s) * barWidth
                let top = layout.py(value)
                canvas.fillRect(x: x + 1, y: min(top, baseline), width: barWidth - 2, height: abs(baseline - top),
                                color: color, alpha: 0.85)
                if let error = item.errors?[c], error.isFinite, error > 0 {
                    let middle = x + barWidth / 2
                    let (high, low) = (layout.py(value + error), layout.py(value - error))
                    canvas.line(from: (middle, high), to: (middle, low), color: .text, width: 1.6, crisp: false)
                    let cap = min(barWidth * 0.25, 6)
                    canvas.line(from: (middle - cap, high), to: (middle + cap, high), color: .text, width: 1.6, crisp: false)
                    canvas.line(from: (middle - cap, low), to: (middle + cap, low), color: .text, width: 1.6, crisp: false)
                }
            }
            canvas.resetClip()
            if showValues {
                for (s, item) in series.enumerated() where item.values[c].isFinite {
                    let x = centre - groupWidth * 0.4 + (Double(s) + 0.5) * barWidth
                    let top = layout.py(item.values[c] + max(item.errors?[c] ?? 0, 0))
                    let text = String(format: "%.1f", item.values[c])
                    canvas.text(text, x: x, y: max(top - 4, layout.top), size: 11, color: .mutedText,
                                anchor: .middle, baseline: .bottom)
                }
            }
        }
        layout.drawXLabel(categoryLabel, canvas: canvas)
        layout.drawFrame(canvas: canvas)
        layout.drawLegend(legend, canvas: canvas)
        return try canvas.pngData()
    }
}
