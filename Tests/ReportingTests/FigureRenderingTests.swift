import Foundation
import Testing
@testable import Reporting

/// Each figure renders a PNG of the requested size with ink where the data is.
@Suite struct FigureRenderingTests {
    /// Pixels within `tolerance` (per channel, 0-255) of `color`.
    static func matches(_ pixel: UInt32, _ color: RGBColor, tolerance: Int = 40) -> Bool {
        let target = color.hex
        return [16, 8, 0].allSatisfy { shift in
            abs(Int((pixel >> UInt32(shift)) & 0xFF) - Int((target >> UInt32(shift)) & 0xFF)) <= tolerance
        }
    }

    /// Number of pixels of `color` in each row.
    static func rowCounts(_ image: DecodedPNG, _ color: RGBColor, tolerance: Int = 40) -> [Int] {
        (0..<image.height).map { y in
            (0..<image.width).filter { matches(image.pixels[y * image.width + $0], color, tolerance: tolerance) }.count
        }
    }

    static func argmax(_ values: [Int]) -> Int { values.indices.max { values[$0] < values[$1] } ?? -1 }

    /// Two horizontal lines at y = 0.25 (blue) and y = 0.75 (vermillion) on a fixed 0...1 axis: each is a
    /// long run of its colour on one row, and their heights above the x axis are in the ratio 1 : 3.
    @Test func lineChartDrawsHorizontalLinesAtTheirValues() throws {
        let chart = LineChart(title: "Two levels", xLabel: "Epoch", yLabel: "Value",
                              series: [.init(name: "low", x: [0, 10], y: [0.25, 0.25]),
                                       .init(name: "high", x: [0, 10], y: [0.75, 0.75])],
                              xRange: 0...10, yRange: 0...1, markers: false, width: 700, height: 420)
        let image = try DecodedPNG(data: try chart.renderPNG())
        #expect(image.width == 700 && image.height == 420)
        let blue = Self.rowCounts(image, Colormap.seriesColor(0)), red = Self.rowCounts(image, Colormap.seriesColor(1))
        let axis = Self.rowCounts(image, RGBColor(hex: 0x444444), tolerance: 12)
        let (blueRow, redRow, axisRow) = (Self.argmax(blue), Self.argmax(red), Self.argmax(axis))
        #expect(blue[blueRow] > 350, "the low line should span the plot, got \(blue[blueRow]) pixels")
        #expect(red[redRow] > 350, "the high line should span the plot, got \(red[redRow]) pixels")
        #expect(axis[axisRow] > 350, "the x axis should be a long dark row")
        let lowHeight = Double(axisRow - blueRow), highHeight = Double(axisRow - redRow)
        #expect(lowHeight > 20 && abs(highHeight - 3 * lowHeight) <= 3, "heights \(lowHeight), \(highHeight)")
    }

    /// A mean ± std band of accuracies near 100% stays inside 0...100: the fitted axis ends at 100, not at 115.
    @Test func bandsAreClippedToTheValueRange() throws {
        let series = LineChart.Series(name: "acc", runs: [[80, 100], [100, 100], [100, 70]])  // means 93.3, 90; stds 11.5, 17.3
        let free = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [series])
        let bounded = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [series], valueBounds: 0...100)
        #expect(free.dataExtent().y.upperBound > 100)
        #expect(bounded.dataExtent().y.upperBound == 100)
        _ = try bounded.renderPNG()
    }

    /// Mean and sample standard deviation over runs per epoch; shorter runs and NaNs drop out.
    @Test func seriesFromRunsAveragesPerEpoch() {
        let series = LineChart.Series(name: "m", runs: [[1, 2, 3], [3, 4], [2, .nan]])
        #expect(series.x == [1, 2, 3] && series.y == [2, 3, 3])
        #expect(series.spread == [1, (2.0).squareRoot(), 0])
    }

    /// Bars of 25 and 75 on a 0...100 axis: the second bar is three times as tall.
    @Test func barChartBarHeightsAreProportional() throws {
        let chart = BarChart(title: "Bars", categoryLabel: "Noise", valueLabel: "Accuracy (%)", categories: ["a", "b"],
                             series: [.init(name: "m", values: [25, 75], errors: [5, 5])], valueRange: 0...100,
                             width: 600, height: 400)
        let image = try DecodedPNG(data: try chart.renderPNG())
        #expect(image.width == 600 && image.height == 400)
        // Bars are alpha 0.85 over white.
        let barColor = RGBColor.white.mixed(with: Colormap.seriesColor(0), 0.85)
        let columns = (0..<image.width).map { x in
            (0..<image.height).filter { Self.matches(image.pixels[$0 * image.width + x], barColor, tolerance: 10) }.count
        }
        let left = columns[..<(image.width / 2)].max() ?? 0, right = columns[(image.width / 2)...].max() ?? 0
        #expect(left > 30, "first bar missing")
        #expect(abs(Double(right) - 3 * Double(left)) <= 4, "bar heights \(left), \(right)")
    }

    @Test func confusionMatrixFillsTheDiagonalDark() throws {
        let figure = ConfusionMatrixFigure(title: "Perfect", counts: [[5, 0, 0], [0, 7, 0], [0, 0, 9]], width: 500, height: 420)
        #expect(figure.rowFractions == [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        let image = try DecodedPNG(data: try figure.renderPNG())
        #expect(image.width == 500 && image.height == 420)
        let darkest = image.pixels.filter { Self.matches($0, Colormap.sequential(1), tolerance: 3) }.count
        let lightest = image.pixels.filter { Self.matches($0, Colormap.sequential(0), tolerance: 3) }.count
        // Three dark cells and six light ones, each cell roughly 100 px square (less the text).
        #expect(darkest > 3 * 5000, "diagonal cells: \(darkest) dark pixels")
        #expect(lightest > 6 * 5000, "off-diagonal cells: \(lightest) light pixels")
        #expect(ConfusionMatrixFigure(title: "", counts: [[0, 0, 0], [1, 1, 2], [0, 0, 3]]).rowFractions[1] == [0.25, 0.25, 0.5])
    }

    @Test func histogramCountsAndZeroLine() throws {
        let values = (0..<1000).map { Double($0) / 999 * 2 - 1 }  // uniform on [-1, 1]
        let figure = HistogramFigure(title: "", valueLabel: "Score", groups: [.init(name: "all", values: values + [.nan])],
                                     binCount: 10, width: 600, height: 400)
        let edges = figure.binEdges
        #expect(edges.count == 11 && edges.first == -1 && edges.last == 1)
        let counts = HistogramFigure.counts(of: values + [.nan, .infinity], edges: edges)
        #expect(counts.reduce(0, +) == 1000, "every finite value lands in a bin, the maximum included")
        #expect(counts.allSatisfy { $0 == 100 })
        let image = try DecodedPNG(data: try figure.renderPNG())
        #expect(image.width == 600 && image.height == 400)
        let fill = RGBColor.white.mixed(with: Colormap.seriesColor(0), 0.75)
        let filled = image.pixels.filter { Self.matches($0, fill, tolerance: 8) }.count
        #expect(filled > 600 * 400 / 4, "bars should cover much of the plot, got \(filled) pixels")
        // The zero line is a dark dashed column in the middle of the bars.
        let columns = (0..<image.width).map { x in
            (0..<image.height).filter { Self.matches(image.pixels[$0 * image.width + x], .text, tolerance: 30) }.count
        }
        let zeroColumn = Self.argmax(columns)
        #expect(columns[zeroColumn] > 100 && abs(zeroColumn - image.width / 2) < 120, "zero line at column \(zeroColumn)")
    }

    @Test func resamplingBilinearAndNearest() {
        let image = GreyImage(width: 2, height: 1, pixels: [0, 1])
        #expect(image.resampled(width: 4, height: 1, method: .bilinear) == [0, 0.25, 0.75, 1])
        #expect(image.resampled(width: 4, height: 1, method: .nearest) == [0, 0, 1, 1])
        let square = GreyImage(width: 3, height: 3, pixels: (0..<9).map(Float.init))
        #expect(square.resampled(width: 3, height: 3, method: .bilinear) == (0..<9).map(Double.init), "identity at 1:1")
    }

    /// Left half dark, right half bright: grey, diverging and mask panels show the expected colours in place.
    @Test func imagePanelsColourEachHalf() throws {
        let size = 8
        let halves = GreyImage(width: size, height: size, pixels: (0..<size * size).map { $0 % size < size / 2 ? 0 : 1 })
        let signed = GreyImage(width: size, height: size, pixels: halves.pixels.map { $0 * 2 - 1 })
        let figure = ImagePanelFigure(title: "", panels: [
            ImagePanel(image: halves, caption: "grey"),
            ImagePanel(image: signed, caption: "signed", style: .diverging(limit: 1)),
            ImagePanel(image: GreyImage(width: size, height: size, pixels: .init(repeating: 0.5, count: size * size)),
                       caption: "mask", style: .maskOverlay(mask: halves)),
        ], columns: 3, panelSize: 96, resampling: .nearest)
        let image = try DecodedPNG(data: try figure.renderPNG())
        #expect(image.width == figure.width && image.height == figure.height)
        // Only the diverging panel's column is widened by its colour bar.
        let origin = ChartLayout.padding, gap = ImagePanelFigure.gap
        let lefts = [origin, origin + 96 + gap, origin + 2 * (96 + gap) + ImagePanelFigure.colourBarSpace]
        #expect(figure.width == Int((lefts[2] + 96 + origin).rounded(.up)))
        func at(_ panel: Int, _ fx: Double, _ fy: Double) -> RGBColor {
            image.pixel(x: Int(lefts[panel] + 96 * fx), y: Int(origin + 96 * fy))
        }
        #expect(at(0, 0.25, 0.5) == .black && at(0, 0.75, 0.5) == .white)
        #expect(at(1, 0.25, 0.5) == Colormap.diverging(-1, limit: 1) && at(1, 0.75, 0.5) == Colormap.diverging(1, limit: 1))
        let plain = at(2, 0.25, 0.5), masked = at(2, 0.75, 0.5)
        #expect(abs(plain.red - plain.blue) < 0.01, "outside the mask the image stays grey")
        #expect(masked.red > masked.green + 0.1 && masked.red > masked.blue + 0.1, "inside the mask is tinted red: \(masked)")
    }

    @Test func writePNGIsAtomicAndDecodable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("figure-write-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("confusion.png")
        try FigureExamples.confusion().writePNG(to: url)
        try FigureExamples.confusion().writePNG(to: url)  // replaces the existing file
        let decoded = try DecodedPNG(contentsOf: url)
        #expect(decoded.width == 640 && decoded.height == 540)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["confusion.png"], "no temporary files left")
        #expect(throws: FigureError.self) { try DecodedPNG(contentsOf: directory.appendingPathComponent("missing.png")) }
        #expect(throws: FigureError.self) { try DecodedPNG(data: Data("not a png".utf8)) }
    }
}
