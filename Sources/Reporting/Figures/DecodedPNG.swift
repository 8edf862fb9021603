import CCairo
import Foundation

/// A PNG read back into packed 0xRRGGBB pixels (alpha composited over white), through cairo's PNG reader.
/// Used to check rendered figures and browser screenshots of the report.
public struct DecodedPNG: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// Row-major, `width * height` packed 0xRRGGBB values.
    public var pixels: [UInt32]

    /// Reads a PNG file.
    public init(contentsOf url: URL) throws {
        guard let surface = cairo_image_surface_create_from_png(url.path) else {
            throw FigureError.pngDecodeFailed(source: url.path, status: "NULL surface")
        }
        defer { cairo_surface_destroy(surface) }
        try self.init(surface: surface, source: url.path)
    }

    /// Decodes PNG bytes held in memory.
    public init(data: Data) throws {
        let source = PNGSource(data: data)
        let surface = cairo_image_surface_create_from_png_stream({ closure, buffer, length in
            guard let closure, let buffer else { return CAIRO_STATUS_READ_ERROR }
            let source = Unmanaged<PNGSource>.fromOpaque(closure).takeUnretainedValue()
            let count = Int(length)
            guard source.offset + count <= source.data.count else { return CAIRO_STATUS_READ_ERROR }
            let start = source.data.startIndex + source.offset
            source.data.copyBytes(to: buffer, from: start..<(start + count))
            source.offset += count
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(source).toOpaque())
        guard let surface else { throw FigureError.pngDecodeFailed(source: "in-memory PNG", status: "NULL surface") }
        defer { cairo_surface_destroy(surface) }
        try self.init(surface: surface, source: "in-memory PNG (\(data.count) bytes)")
    }

    private init(surface: OpaquePointer, source: String) throws {
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw FigureError.pngDecodeFailed(source: source, status: FigureCanvas.describe(status))
        }
        cairo_surface_flush(surface)
        let format = cairo_image_surface_get_format(surface)
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let base = cairo_image_surface_get_data(surface),
              format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24 else {
            throw FigureError.pngDecodeFailed(source: source, status: "unsupported pixel format \(format.rawValue)")
        }
        let hasAlpha = format == CAIRO_FORMAT_ARGB32
        var pixels = [UInt32](repeating: 0, count: width * height)
        for row in 0..<height {
            let rowPointer = UnsafeRawPointer(base + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width {
                let argb = rowPointer[column]
                guard hasAlpha else { pixels[row * width + column] = argb & 0xFF_FFFF; continue }
                // Premultiplied alpha over white: c_out = c_premultiplied + (255 - alpha).
                let inverse = 255 - (argb >> 24)
                let r = min(((argb >> 16) & 0xFF) + inverse, 255)
                let g = min(((argb >> 8) & 0xFF) + inverse, 255)
                let b = min((argb & 0xFF) + inverse, 255)
                pixels[row * width + column] = r << 16 | g << 8 | b
            }
        }
        self.pixels = pixels
    }

    public func pixel(x: Int, y: Int) -> RGBColor {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "DecodedPNG.pixel: (\(x), \(y)) outside \(width)x\(height)")
        return RGBColor(hex: pixels[y * width + x])
    }
}

/// The bytes cairo pulls while decoding a PNG from memory.
private final class PNGSource {
    let data: Data
    var offset = 0
    init(data: Data) { self.data = data }
}
