import Foundation

/// A single-channel image as plain Swift values: `pixels` row-major, `width * height` of them.
/// Intensities are expected in [0, 1] (grey panels clamp); signed values for diverging panels.
public struct GreyImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "GreyImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Value at continuous source coordinates (pixel centres at integers), edges clamped.
    func bilinear(_ x: Double, _ y: Double) -> Double {
        let cx = min(max(x, 0), Double(width - 1)), cy = min(max(y, 0), Double(height - 1))
        let x0 = Int(cx), y0 = Int(cy)
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let fx = cx - Double(x0), fy = cy - Double(y0)
        let top = Double(pixels[y0 * width + x0]) * (1 - fx) + Double(pixels[y0 * width + x1]) * fx
        let bottom = Double(pixels[y1 * width + x0]) * (1 - fx) + Double(pixels[y1 * width + x1]) * fx
        return top * (1 - fy) + bottom * fy
    }

    func nearest(_ x: Double, _ y: Double) -> Double {
        let ix = min(max(Int(x.rounded()), 0), width - 1), iy = min(max(Int(y.rounded()), 0), height - 1)
        return Double(pixels[iy * width + ix])
    }

    /// Resampled to `outputWidth` x `outputHeight` (output pixel centres mapped onto the source grid).
    public func resampled(width outputWidth: Int, height outputHeight: Int, method: ImageResampling) -> [Double] {
        precondition(outputWidth > 0 && outputHeight > 0, "GreyImage.resampled: size \(outputWidth)x\(outputHeight)")
        let sx = Double(width) / Double(outputWidth), sy = Double(height) / Double(outputHeight)
        var out = [Double](repeating: 0, count: outputWidth * outputHeight)
        for row in 0..<outputHeight {
            let y = (Double(row) + 0.5) * sy - 0.5
            for column in 0..<outputWidth {
                let x = (Double(column) + 0.5) * sx - 0.5
                out[row * outputWidth + column] = method == .bilinear ? bilinear(x, y) : nearest(x, y)
            }
        }
        return out
    }
}

public enum ImageResampling: Sendable, Equatable { case nearest, bilinear }

/// One panel of an image grid: an image, how to colour it, and a caption (lines separated by "\n").
public struct ImagePanel: Sendable, Equatable {
    public enum Style: Sendable, Equatable {
        /// Intensities in [0, 1] as grey levels.
        case grey
        /// Signed values, blue-white-red symmetric around 0, with a colour bar; `limit` nil uses max |value|.
        case diverging(limit: Float?)
        /// The grey image with `mask` (same size, foreground >= 0.5) as a translucent red fill and contour.
        case maskOverlay(mask: GreyImage)
    }

    public var image: GreyImage
    public var caption: String
    public var style: Style

    public init(image: GreyImage, caption: String, style: Style = .grey) {
        if case .maskOverlay(let mask) = style {
            precondition(mask.width == image.width && mask.height == image.height,
                         "ImagePanel: mask \(mask.width)x\(mask.height) for image \(image.width)x\(image.height)")
        }
        self.image = image
        self.caption = caption
        self.style = style
    }
}

/// A grid of image panels with captions: the paper's Figure 1 (noisy image / tumour mask / ISP perturbation),
/// Figure 2 (clean / noisy / AT / ISP / N2V per noise type), and contact sheets of the most harmful or
/// helpful training images. Each image is scaled to fit a `panelSize` square, keeping its aspect ratio.
public struct ImagePanelFigure: RenderableFigure, Equatable {
    public var title: String
    public var panels: [ImagePanel]
    public var columns: Int
    public var panelSize: Int
    public var resampling: ImageResampling

    /// Mask colour: Okabe-Ito vermillion, a red that stays distinct from grey for colour-blind readers.
    static let maskColor = RGBColor(hex: 0xE8341C)
    static let gap = 14.0
    static let captionSize = 13.0
    static let colourBarSpace = 78.0

    public init(title: String, panels: [ImagePanel], columns: Int, panelSize: Int = 192,
                resampling: ImageResampling = .bilinear) {
        precondition(columns >= 1 && panelSize >= 16, "ImagePanelFigure: columns \(columns), panelSize \(panelSize)")
        self.title = title
        self.panels = panels
        self.columns = columns
        self.panelSize = panelSize
        self.resampling = resampling
    }

    private var rows: Int { max((panels.count + columns - 1) / columns, 1) }
    private var usedColumns: Int { min(columns, max(panels.count, 1)) }
    /// Column widths: a column holding a diverging panel is wider by the colour bar.
    private var columnWidths: [Double] {
        (0..<usedColumns).map { column in
            let hasBar = panels.indices.contains { index in
                guard index % columns == column, case .diverging = panels[index].style else { return false }
                return true
            }
            return Double(panelSize) + (hasBar ? Self.colourBarSpace : 0)
        }
    }
    /// Left edge of each column.
    private var columnOffsets: [Double] {
        columnWidths.reduce(into: [ChartLayout.padding]) { $0.append($0[$0.count - 1] + $1 + Self.gap) }
    }
    private var captionLines: Int { panels.map { $0.caption.split(separator: "\n", omittingEmptySubsequences: false).count }.max() ?? 0 }
    private var cellHeight: Double { Double(panelSize) + Double(captionLines) * Self.captionSize * 1.35 + 6 }
    private var titleHeight: Double { title.isEmpty ? 0 : ChartLayout.titleSize * 1.8 }

    /// Pixel size of the whole figure, from the grid.
    public var width: Int {
        Int((columnOffsets[usedColumns] - Self.gap + ChartLayout.padding).rounded(.up))
    }
    public var height: Int {
        Int((2 * ChartLayout.padding + titleHeight + Double(rows) * (cellHeight + Self.gap) - Self.gap).rounded(.up))
    }

    public func renderPNG() throws -> Data {
        let canvas = try FigureCanvas(width: width, height: height)
        if !title.isEmpty {
            canvas.text(canvas.fitted(title, size: ChartLayout.titleSize, maxWidth: Double(width) - 2 * ChartLayout.padding,
                                      bold: true),
                        x: Double(width) / 2, y: ChartLayout.padding, size: ChartLayout.titleSize,
                        anchor: .middle, baseline: .top, bold: true)
        }
        let widths = columnWidths
        for (index, panel) in panels.enumerated() {
            let x = columnOffsets[index % columns]
            let y = ChartLayout.padding + titleHeight + Double(index / columns) * (cellHeight + Self.gap)
            try draw(panel, x: x, y: y, cellWidth: widths[index % columns], canvas: canvas)
        }
        return try canvas.pngData()
    }

    private func draw(_ panel: ImagePanel, x: Double, y: Double, cellWidth: Double, canvas: FigureCanvas) throws {
        let image = panel.image
        let scale = Double(panelSize) / Double(max(image.width, image.height))
        let outWidth = max(Int((Double(image.width) * scale).rounded()), 1)
        let outHeight = max(Int((Double(image.height) * scale).rounded()), 1)
        let ox = x + Double(panelSize - outWidth) / 2, oy = y + Double(panelSize - outHeight) / 2
        let values = image.resampled(width: outWidth, height: outHeight, method: resampling)
        var rgb: [UInt32]
        switch panel.style {
        case .grey:
            rgb = values.map { Colormap.grey($0).hex }
        case .diverging(let limit):
            let bound = divergingLimit(limit, image: image)
            rgb = values.map { Colormap.diverging($0, limit: bound).hex }
        case .maskOverlay(let mask):
            rgb = values.map { Colormap.grey($0).hex }
            let inside = mask.resampled(width: outWidth, height: outHeight, method: resampling).map { $0 >= 0.5 }
            overlay(mask: inside, width: outWidth, height: outHeight, on: &rgb)
        }
        try canvas.drawRaster(rgb, pixelWidth: outWidth, pixelHeight: outHeight, x: ox.rounded(), y: oy.rounded())
        canvas.strokeRect(x: ox.rounded() - 0.5, y: oy.rounded() - 0.5, width: Double(outWidth) + 1,
                          height: Double(outHeight) + 1, color: RGBColor(hex: 0x999999))

        if case .diverging(let limit) = panel.style {
            let bound = divergingLimit(limit, image: image)
            let text = String(format: "%.2g", bound)  // two significant digits: "0.024", "3.5", "1.2e-05"
            ColourBar(x: x + Double(panelSize) + 10, y: y + 8, width: 12, height: Double(panelSize) - 16,
                      lower: -bound, upper: bound, ticks: [-bound, 0, bound], labels: ["\u{2212}" + text, "0", "+" + text],
                      title: "", fontSize: 12, color: { Colormap.diverging($0, limit: bound) }).draw(on: canvas)
        }
        let lines = panel.caption.split(separator: "\n", omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() {
            canvas.text(canvas.fitted(String(line), size: Self.captionSize, maxWidth: cellWidth),
                        x: x + Double(panelSize) / 2, y: y + Double(panelSize) + 6 + Double(number) * Self.captionSize * 1.35,
                        size: Self.captionSize, color: number == 0 ? .text : .mutedText, anchor: .middle, baseline: .top)
        }
    }

    private func divergingLimit(_ limit: Float?, image: GreyImage) -> Double {
        if let limit, limit > 0 { return Double(limit) }
        let largest = Double(image.pixels.lazy.filter { $0.isFinite }.map { abs($0) }.max() ?? 0)
        return largest > 0 ? largest : 1
    }

    /// Mask drawn as a translucent fill (35%) and an opaque one-pixel contour (inside pixels, at panel
    /// scale, with an outside 8-neighbour).
    private func overlay(mask inside: [Bool], width: Int, height: Int, on rgb: inout [UInt32]) {
        let fill = Self.maskColor
        for row in 0..<height {
            for column in 0..<width where inside[row * width + column] {
                var edge = false
                for dy in -1...1 {
                    for dx in -1...1 {
                        let r = row + dy, c = column + dx
                        if r < 0 || r >= height || c < 0 || c >= width || !inside[r * width + c] { edge = true }
                    }
                }
                let base = RGBColor(hex: rgb[row * width + column])
                rgb[row * width + column] = (edge ? fill : base.mixed(with: fill, 0.35)).hex
            }
        }
    }
}
