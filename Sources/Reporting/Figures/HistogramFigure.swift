import Foundation

/// A histogram of one or more groups of values on shared bins (e.g. influence scores, overall or split by
/// class), drawn as translucent filled steps so overlaid groups stay visible, with a dashed vertical line
/// at x = 0 (the sign of an influence score separates harmful from helpful points).
///
/// With `logCount` the count axis is logarithmic (empty bins are not drawn), which shows the long tails
/// influence scores usually have.
public struct HistogramFigure: RenderableFigure, Equatable {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var values: [Double]
        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    public var title: String
    public var valueLabel: String
    public var groups: [Group]
    public var binCount: Int
    public var logCount: Bool
    public var zeroLine: Bool
    public var width: Int
    public var height: Int

    public init(title: String, valueLabel: String, groups: [Group], binCount: Int = 40, logCount: Bool = false,
                zeroLine: Bool = true, width: Int = 900, height: Int = 520) {
        precondition(binCount >= 1, "HistogramFigure: binCount must be >= 1, got \(binCount)")
        self.title = title
        self.valueLabel = valueLabel
        self.groups = groups
        self.binCount = binCount
        self.logCount = logCount
        self.zeroLine = zeroLine
        self.width = width
        self.height = height
    }

    /// Shared bin edges over all finite values: `binCount` equal bins from the minimum to the maximum.
    public var binEdges: [Double] {
        let values = groups.flatMap { $0.values }.filter { $0.isFinite }
        var low = values.min() ?? 0, high = values.max() ?? 1
        if !(high > low) {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        return (0...binCount).map { low + (high - low) * Double($0) / Double(binCount) }
    }

    /// Counts of one group's finite values per bin (the last bin includes its upper edge).
    public static func counts(of values: [Double], edges: [Double]) -> [Int] {
        let bins = edges.count - 1
        var counts = [Int](repeating: 0, count: max(bins, 0))
        guard bins > 0 else { return counts }
        let (low, high) = (edges[0], edges[bins])
        for value in values where value.isFinite && value >= low && value <= high {
            let index = Int((value - low) / (high - low) * Double(bins))
            counts[min(max(index, 0), bins - 1)] += 1
        }
        return counts
    }

    public func renderPNG() throws -> Data {
        let canvas = try FigureCanvas(width: width, height: height)
        let edges = binEdges
        let groupCounts = groups.map { HistogramFigure.counts(of: $0.values, edges: edges) }
        let maxCount = Double(groupCounts.flatMap { $0 }.max() ?? 1)
        let yRange: ClosedRange<Double>
        let yTicks: [Double]
        let yLabels: [String]
        if logCount {
            yRange = 0.7...max(maxCount * 1.5, 10)
            yTicks = AxisTicks.logTicks(lower: 1, upper: yRange.upperBound)
            yLabels = yTicks.map { String(format: "%.0f", $0) }
        } else {
            yRange = AxisTicks.niceRange(lower: 0, upper: max(maxCount * 1.04, 1), targetCount: max(3, height / 90))
            yTicks = AxisTicks.ticks(lower: 0, upper: yRange.upperBound, targetCount: max(3, height / 90), integerOnly: true)
            yLabels = AxisTicks.labels(for: yTicks).labels
        }
        let span = edges[edges.count - 1] - edges[0]
        let xRange = (edges[0] - span * 0.02)...(edges[edges.count - 1] + span * 0.02)
        let legend = groups.count > 1 ? groups.enumerated().map { index, g in
            LegendEntry(name: "\(g.name) (n = \(g.values.filter { $0.isFinite }.count))",
                        color: Colormap.seriesColor(index), swatch: .box, alpha: 0.35)
        } : []
        let countLabel = logCount ? "Count (log scale)" : "Count"
        var layout = ChartLayout.make(canvas: canvas, title: title, xLabel: valueLabel, yLabel: countLabel,
                                      yTickLabels: yLabels, legend: legend, xRange: xRange, yRange: yRange, logY: logCount)
        let xTicks = AxisTicks.ticks(lower: xRange.lowerBound, upper: xRange.upperBound,
                                     targetCount: max(3, Int(layout.width / 100)))
        let xLabels = AxisTicks.labels(for: xTicks)
        layout.logY = logCount
        layout.drawTitle(title, canvas: canvas)
        layout.drawYAxis(ticks: yTicks, labels: yLabels, label: countLabel, canvas: canvas)
        layout.drawXAxis(ticks: xTicks, labels: xLabels.labels, label: valueLabel + xLabels.multiplierSuffix,
                         grid: false, canvas: canvas)

        canvas.clip(x: layout.left, y: layout.top, width: layout.width, height: layout.height)
        for (index, counts) in groupCounts.enumerated() {
            let color = Colormap.seriesColor(index)
            for (bin, count) in counts.enumerated() where count > 0 {
                let x0 = layout.px(edges[bin]), x1 = layout.px(edges[bin + 1])
                let top = layout.py(Double(count))
                canvas.fillRect(x: x0, y: top, width: x1 - x0, height: layout.bottom - top, color: color,
                                alpha: groups.count > 1 ? 0.35 : 0.75)
            }
            canvas.polyline(outline(counts, edges: edges, layout: layout), color: color, width: 1.5)
        }
        if zeroLine && xRange.contains(0) {
            canvas.setDash([5, 4])
            let x = layout.px(0).rounded()  // 2 px wide on whole pixels: sharp, not smeared by antialiasing
            canvas.line(from: (x, layout.top), to: (x, layout.bottom), color: .text, width: 2, crisp: false)
            canvas.setDash([])
        }
        canvas.resetClip()
        layout.drawFrame(canvas: canvas)
        layout.drawLegend(legend, canvas: canvas)
        return try canvas.pngData()
    }

    /// The step outline over the bins (down to the axis at both ends and at empty bins).
    private func outline(_ counts: [Int], edges: [Double], layout: ChartLayout) -> [(Double, Double)] {
        var points: [(Double, Double)] = [(layout.px(edges[0]), layout.bottom)]
        for (bin, count) in counts.enumerated() {
            let y = count > 0 ? layout.py(Double(count)) : layout.bottom
            points.append((layout.px(edges[bin]), y))
            points.append((layout.px(edges[bin + 1]), y))
        }
        points.append((layout.px(edges[edges.count - 1]), layout.bottom))
        return points
    }
}
