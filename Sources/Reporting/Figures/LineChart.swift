import Foundation

/// A line chart of several named series, each optionally with an error band (mean +- spread, e.g. the
/// standard deviation over seeds). Used for learning curves: loss or accuracy per epoch per method.
///
/// NaN y values break a line (a missing epoch); the band is drawn where both y and spread are finite.
public struct LineChart: RenderableFigure, Equatable {
    /// One line: points (x[i], y[i]) joined in order, with an optional band y[i] -+ spread[i].
    public struct Series: Sendable, Equatable {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var spread: [Double]?
        public var dashed: Bool

        public init(name: String, x: [Double], y: [Double], spread: [Double]? = nil, dashed: Bool = false) {
            precondition(x.count == y.count, "LineChart.Series '\(name)': \(x.count) x values, \(y.count) y values")
            precondition(spread.map { $0.count == y.count } ?? true,
                         "LineChart.Series '\(name)': \(spread?.count ?? 0) spread values, \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
            self.spread = spread
            self.dashed = dashed
        }

        /// Mean and spread over several runs (seeds) of a per-epoch curve, x = 1, 2, ...: at each epoch the
        /// mean of the runs that reached it and their sample standard deviation sqrt(sum (y - mean)^2 / (n - 1))
        /// (0 for a single run). NaN entries are skipped.
        public init(name: String, runs: [[Double]], dashed: Bool = false) {
            let epochs = runs.map { $0.count }.max() ?? 0
            var means: [Double] = [], spreads: [Double] = []
            for epoch in 0..<epochs {
                let values = runs.compactMap { $0.count > epoch && $0[epoch].isFinite ? $0[epoch] : nil }
                let mean = values.isEmpty ? Double.nan : values.reduce(0, +) / Double(values.count)
                let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                means.append(mean)
                spreads.append(values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0)
            }
            self.init(name: name, perEpoch: means, spread: spreads, dashed: dashed)
        }

        /// A series over x = 1, 2, ..., n (epochs).
        public init(name: String, perEpoch y: [Double], spread: [Double]? = nil, dashed: Bool = false) {
            self.init(name: name, x: (1...max(y.count, 1)).prefix(y.count).map(Double.init), y: y,
                      spread: spread, dashed: dashed)
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed axis ranges; nil fits the data (and bands) with a small margin.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// Ticks on whole numbers only (epochs).
    public var integerX: Bool
    /// Dots at the points; nil draws them when every series has at most 30 points.
    public var markers: Bool?
    /// The range a value can take (0...100 for an accuracy in %): band edges are clipped to it, so a mean ± std band
    /// never leaves the quantity's range.
    public var valueBounds: ClosedRange<Double>?
    public var width: Int
    public var height: Int

    public init(title: String, xLabel: String, yLabel: String, series: [Series],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                integerX: Bool = false, markers: Bool? = nil, valueBounds: ClosedRange<Double>? = nil,
                width: Int = 900, height: Int = 520) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.integerX = integerX
        self.markers = markers
        self.valueBounds = valueBounds
        self.width = width
        self.height = height
    }

    /// Data extent over all finite points (and band edges).
    func dataExtent() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                xs.append(s.x[i])
                ys.append(s.y[i])
                if let spread = s.spread, spread[i].isFinite { ys += [bounded(s.y[i] - spread[i]), bounded(s.y[i] + spread[i])] }
            }
        }
        let x = (xs.min() ?? 0)...(xs.max() ?? 1)
        let y = (ys.min() ?? 0)...(ys.max() ?? 1)
        return (x, y)
    }

    public func renderPNG() throws -> Data {
        let canvas = try FigureCanvas(width: width, height: height)
        let extent = dataExtent()
        var xDomain = xRange ?? extent.x
        if xRange == nil {
            // A little air on both sides so the first and last points do not sit on the axes.
            let pad = (xDomain.upperBound - xDomain.lowerBound) * 0.02
            xDomain = (xDomain.lowerBound - pad)...(xDomain.upperBound + pad)
        }
        var yDomain = yRange ?? extent.y
        if yRange == nil {
            let pad = max((yDomain.upperBound - yDomain.lowerBound) * 0.05, abs(yDomain.upperBound) * 1e-3, 1e-12)
            yDomain = (yDomain.lowerBound - pad)...(yDomain.upperBound + pad)
        }
        let yTicks = AxisTicks.ticks(lower: yDomain.lowerBound, upper: yDomain.upperBound,
                                     targetCount: max(3, height / 90))
        let yLabels = AxisTicks.labels(for: yTicks)
        let legend = series.enumerated().map { index, s in
            LegendEntry(name: s.name, color: Colormap.seriesColor(index), swatch: .line(dashed: s.dashed))
        }
        var layout = ChartLayout.make(canvas: canvas, title: title, xLabel: xLabel, yLabel: yLabel + yLabels.multiplierSuffix,
                                      yTickLabels: yLabels.labels, legend: series.count > 1 ? legend : [],
                                      xRange: xDomain, yRange: yDomain)
        if xDomain.lowerBound == xDomain.upperBound {
            layout.xRange = (xDomain.lowerBound - 1)...(xDomain.upperBound + 1)
        }
        let xTicks = AxisTicks.ticks(lower: layout.xRange.lowerBound, upper: layout.xRange.upperBound,
                                     targetCount: max(3, Int(layout.width / 90)), integerOnly: integerX)
        let xLabels = AxisTicks.labels(for: xTicks)

        layout.drawTitle(title, canvas: canvas)
        layout.drawYAxis(ticks: yTicks, labels: yLabels.labels, label: yLabel + yLabels.multiplierSuffix, canvas: canvas)
        layout.drawXAxis(ticks: xTicks, labels: xLabels.labels, label: xLabel + xLabels.multiplierSuffix,
                         grid: true, canvas: canvas)

        canvas.clip(x: layout.left, y: layout.top - 4, width: layout.width + 4, height: layout.height + 4)
        let showMarkers = markers ?? series.allSatisfy { $0.x.count <= 30 }
        for (index, s) in series.enumerated() {
            let color = Colormap.seriesColor(index)
            if let spread = s.spread { drawBand(s, spread: spread, color: color, layout: layout, canvas: canvas) }
            canvas.setDash(s.dashed ? [7, 4] : [])
            for run in finiteRuns(s) {
                canvas.polyline(run.map { (layout.px(s.x[$0]), layout.py(s.y[$0])) }, color: color, width: 2.2)
            }
            canvas.setDash([])
            if showMarkers {
                for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                    canvas.fillCircle(x: layout.px(s.x[i]), y: layout.py(s.y[i]), radius: 3.2, color: color)
                }
            }
        }
        canvas.resetClip()
        layout.drawFrame(canvas: canvas)
        layout.drawLegend(series.count > 1 ? legend : [], canvas: canvas)
        return try canvas.pngData()
    }

    /// Index runs of consecutive finite points.
    private func finiteRuns(_ s: Series) -> [[Int]] {
        var runs: [[Int]] = [], current: [Int] = []
        for i in s.x.indices {
            if s.x[i].isFinite && s.y[i].isFinite {
                current.append(i)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// `value` clipped to `valueBounds`.
    private func bounded(_ value: Double) -> Double {
        guard let valueBounds else { return value }
        return Swift.min(Swift.max(value, valueBounds.lowerBound), valueBounds.upperBound)
    }

    /// The translucent band between y - spread and y + spread, one polygon per finite run.
    private func drawBand(_ s: Series, spread: [Double], color: RGBColor, layout: ChartLayout, canvas: FigureCanvas) {
        for run in finiteRuns(s) where run.count > 1 {
            let valid = run.filter { spread[$0].isFinite }
            guard valid.count > 1 else { continue }
            let upper = valid.map { (layout.px(s.x[$0]), layout.py(bounded(s.y[$0] + spread[$0]))) }
            let lower = valid.reversed().map { (layout.px(s.x[$0]), layout.py(bounded(s.y[$0] - spread[$0]))) }
            canvas.fillPolygon(upper + lower, color: color, alpha: 0.18)
        }
    }
}
