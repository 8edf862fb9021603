import CCairo
import Foundation
import Tensor

/// Failures while drawing, encoding, decoding or writing a figure or report. Each message names the file
/// (when there is one) and says what to do.
public enum FigureError: Error, CustomStringConvertible, Equatable {
    /// cairo reported an error status (out of memory, invalid size, ...).
    case cairo(operation: String, status: String)
    /// Writing an output file failed (directory missing, disk full, no permission).
    case writeFailed(path: String, reason: String)
    /// A PNG could not be read back (missing file, not a PNG).
    case pngDecodeFailed(source: String, status: String)

    public var description: String {
        switch self {
        case .cairo(let operation, let status):
            return "cairo failed in \(operation): \(status). Check the figure size (it must be positive and "
                + "below 32767 pixels a side) and the free memory."
        case .writeFailed(let path, let reason):
            return "Could not write \(path): \(reason). Check that the directory exists and is writable."
        case .pngDecodeFailed(let source, let status):
            return "Could not read the PNG \(source): \(status). Check that the file exists and is a PNG image."
        }
    }
}

/// Anything that renders itself into a PNG image.
public protocol RenderableFigure: Sendable {
    /// Draws the figure and encodes it as PNG bytes.
    func renderPNG() throws -> Data
}

extension RenderableFigure {
    /// Renders the figure and writes it atomically (temporary file in the same directory, then rename).
    public func writePNG(to url: URL) throws {
        try AtomicFile.write([UInt8](try renderPNG()), to: url.path)
    }
}

/// Horizontal text anchor: which point of the text's box sits at the given x.
enum TextAnchor { case start, middle, end }

/// Vertical text anchor: which line of the text's box sits at the given y.
enum TextBaseline { case top, middle, alphabetic, bottom }

/// A thin Swift wrapper over one cairo image surface (ARGB32) and its drawing context.
/// Coordinates are pixels with the origin at the top left, y growing downwards.
/// Text uses cairo's toy API with the "DejaVu Sans" family (Debian: fonts-dejavu-core).
final class FigureCanvas {
    let width: Int
    let height: Int
    let surface: OpaquePointer
    let context: OpaquePointer

    static let fontFamily = "DejaVu Sans"

    /// Creates a canvas filled with `background`.
    init(width: Int, height: Int, background: RGBColor = .white) throws {
        precondition(width > 0 && height > 0, "FigureCanvas: size must be positive, got \(width)x\(height)")
        self.width = width
        self.height = height
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw FigureError.cairo(operation: "cairo_image_surface_create", status: "NULL surface")
        }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw FigureError.cairo(operation: "cairo_image_surface_create", status: FigureCanvas.describe(status))
        }
        guard let context = cairo_create(surface) else {
            cairo_surface_destroy(surface)
            throw FigureError.cairo(operation: "cairo_create", status: "NULL context")
        }
        self.surface = surface
        self.context = context
        setColor(background)
        cairo_paint(context)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    static func describe(_ status: cairo_status_t) -> String {
        guard let text = cairo_status_to_string(status) else { return "status \(status.rawValue)" }
        return String(cString: text)
    }

    // MARK: Paths and colours

    func setColor(_ color: RGBColor, alpha: Double = 1) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, alpha)
    }

    func setLineWidth(_ width: Double) { cairo_set_line_width(context, width) }

    /// Dash pattern in pixels; an empty array draws solid lines.
    func setDash(_ pattern: [Double]) {
        pattern.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
    }

    func fillRect(x: Double, y: Double, width: Double, height: Double, color: RGBColor, alpha: Double = 1) {
        setColor(color, alpha: alpha)
        cairo_rectangle(context, x, y, width, height)
        cairo_fill(context)
    }

    func strokeRect(x: Double, y: Double, width: Double, height: Double, color: RGBColor, lineWidth: Double = 1) {
        setColor(color)
        setLineWidth(lineWidth)
        cairo_rectangle(context, x, y, width, height)
        cairo_stroke(context)
    }

    /// A straight segment; with `crisp`, 1-pixel lines are snapped to pixel centres so they stay sharp.
    func line(from start: (Double, Double), to end: (Double, Double), color: RGBColor,
              width: Double = 1, crisp: Bool = true) {
        let snap: (Double) -> Double = { crisp && width <= 1.5 ? ($0.rounded(.down) + 0.5) : $0 }
        setColor(color)
        setLineWidth(width)
        cairo_move_to(context, snap(start.0), snap(start.1))
        cairo_line_to(context, snap(end.0), snap(end.1))
        cairo_stroke(context)
    }

    /// An open polyline through `points`.
    func polyline(_ points: [(Double, Double)], color: RGBColor, width: Double, alpha: Double = 1) {
        guard let first = points.first else { return }
        setColor(color, alpha: alpha)
        setLineWidth(width)
        cairo_move_to(context, first.0, first.1)
        for point in points.dropFirst() { cairo_line_to(context, point.0, point.1) }
        cairo_stroke(context)
    }

    /// A closed filled polygon.
    func fillPolygon(_ points: [(Double, Double)], color: RGBColor, alpha: Double) {
        guard let first = points.first else { return }
        setColor(color, alpha: alpha)
        cairo_move_to(context, first.0, first.1)
        for point in points.dropFirst() { cairo_line_to(context, point.0, point.1) }
        cairo_close_path(context)
        cairo_fill(context)
    }

    func fillCircle(x: Double, y: Double, radius: Double, color: RGBColor) {
        setColor(color)
        cairo_new_sub_path(context)
        cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(context)
    }

    /// Restricts drawing to a rectangle until `resetClip`.
    func clip(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(context, x, y, width, height)
        cairo_clip(context)
    }

    func resetClip() { cairo_reset_clip(context) }

    // MARK: Text

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(context, FigureCanvas.fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    /// Advance width of `text` in pixels at the given size.
    func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        return extents.x_advance
    }

    /// Draws one line of text. `rotation` is in radians, counter-clockwise positive as seen on screen
    /// (use `-.pi / 2` for a y-axis label reading bottom to top).
    func text(_ text: String, x: Double, y: Double, size: Double, color: RGBColor = .text,
              anchor: TextAnchor = .start, baseline: TextBaseline = .alphabetic,
              bold: Bool = false, rotation: Double = 0) {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        let dx: Double
        switch anchor {
        case .start: dx = 0
        case .middle: dx = -extents.x_advance / 2
        case .end: dx = -extents.x_advance
        }
        // Offsets from DejaVu Sans's metrics: ascent about 0.76 em, cap height about 0.73 em, descent 0.24 em.
        let dy: Double
        switch baseline {
        case .top: dy = 0.76 * size
        case .middle: dy = 0.36 * size
        case .alphabetic: dy = 0
        case .bottom: dy = -0.24 * size
        }
        cairo_save(context)
        cairo_translate(context, x, y)
        cairo_rotate(context, rotation)
        setColor(color)
        cairo_move_to(context, dx, dy)
        cairo_show_text(context, text)
        cairo_restore(context)
    }

    /// Shortens `text` with an ellipsis until it fits in `maxWidth` pixels.
    func fitted(_ text: String, size: Double, maxWidth: Double, bold: Bool = false) -> String {
        if textWidth(text, size: size, bold: bold) <= maxWidth { return text }
        var characters = Array(text)
        while !characters.isEmpty {
            characters.removeLast()
            let candidate = String(characters) + "\u{2026}"
            if textWidth(candidate, size: size, bold: bold) <= maxWidth { return candidate }
        }
        return ""
    }

    // MARK: Raster images

    /// Draws an RGB raster (row-major, `pixelWidth` x `pixelHeight`, one packed 0xRRGGBB per pixel)
    /// at (x, y), pixel for pixel. Used by image panels after resampling.
    func drawRaster(_ rgb: [UInt32], pixelWidth: Int, pixelHeight: Int, x: Double, y: Double) throws {
        precondition(rgb.count == pixelWidth * pixelHeight,
                     "drawRaster: \(rgb.count) pixels for \(pixelWidth)x\(pixelHeight)")
        guard let image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(pixelWidth), Int32(pixelHeight)) else {
            throw FigureError.cairo(operation: "cairo_image_surface_create (raster)", status: "NULL surface")
        }
        defer { cairo_surface_destroy(image) }
        guard cairo_surface_status(image) == CAIRO_STATUS_SUCCESS, let base = cairo_image_surface_get_data(image) else {
            throw FigureError.cairo(operation: "cairo_image_surface_create (raster)",
                                    status: FigureCanvas.describe(cairo_surface_status(image)))
        }
        cairo_surface_flush(image)
        let stride = Int(cairo_image_surface_get_stride(image))
        for row in 0..<pixelHeight {
            let rowPointer = UnsafeMutableRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<pixelWidth { rowPointer[column] = 0xFF00_0000 | rgb[row * pixelWidth + column] }
        }
        cairo_surface_mark_dirty(image)
        cairo_set_source_surface(context, image, x, y)
        cairo_paint(context)
    }

    // MARK: Output

    /// Encodes the canvas as PNG bytes in memory.
    func pngData() throws -> Data {
        cairo_surface_flush(surface)
        let sink = PNGSink()
        let status = cairo_surface_write_to_png_stream(surface, { closure, bytes, length in
            guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
            let sink = Unmanaged<PNGSink>.fromOpaque(closure).takeUnretainedValue()
            sink.data.append(bytes, count: Int(length))
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else {
            throw FigureError.cairo(operation: "cairo_surface_write_to_png_stream", status: FigureCanvas.describe(status))
        }
        return sink.data
    }
}

/// Collects the bytes cairo streams out while encoding a PNG.
private final class PNGSink {
    var data = Data()
}
