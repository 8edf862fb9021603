import CPNG
import Foundation

/// An 8-bit PNG in memory (grey or RGB), written through libpng's simplified API
/// (`png_image_write_to_memory`). The figures code uses it to save images.
public struct PNGImage: Sendable, Equatable {
    /// The encoded PNG file.
    public var data: [UInt8]

    /// Encodes `height` rows of `width` grey bytes.
    public static func encode(gray pixels: [UInt8], width: Int, height: Int) throws -> PNGImage {
        precondition(pixels.count == width * height, "PNGImage.encode(gray:): \(pixels.count) bytes for \(width)x\(height)")
        return try encode(pixels, width: width, height: height, format: PNGFormat.gray)
    }

    /// Encodes `height` rows of `width` RGB triples (3 * width * height bytes, R G B interleaved).
    public static func encode(rgb pixels: [UInt8], width: Int, height: Int) throws -> PNGImage {
        precondition(pixels.count == 3 * width * height, "PNGImage.encode(rgb:): \(pixels.count) bytes for 3x\(width)x\(height)")
        return try encode(pixels, width: width, height: height, format: PNGFormat.rgb)
    }

    /// Encodes `height` rows of `width` 16-bit grey values (`PNG_FORMAT_LINEAR_Y`: stored linear, no gamma).
    public static func encode(gray16 pixels: [UInt16], width: Int, height: Int) throws -> PNGImage {
        precondition(pixels.count == width * height, "PNGImage.encode(gray16:): \(pixels.count) values for \(width)x\(height)")
        return try encode(pixels, width: width, height: height, format: PNGFormat.linearGray)
    }

    /// Encodes a [H, W] or [1, H, W] slice of values in [0, 1] (clipped) as grey.
    public static func encode(unitGray values: [Float], width: Int, height: Int) throws -> PNGImage {
        let bytes = values.map { UInt8((Swift.min(Swift.max($0, 0), 1) * 255).rounded()) }
        return try encode(gray: bytes, width: width, height: height)
    }

    private static func encode<Pixel>(_ pixels: [Pixel], width: Int, height: Int, format: png_uint_32) throws -> PNGImage {
        precondition(width > 0 && height > 0, "PNGImage.encode: empty image \(width)x\(height)")
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = format
        var size: png_alloc_size_t = 0
        // First call measures, second call writes.
        let measured = pixels.withUnsafeBytes { source in
            png_image_write_to_memory(&image, nil, &size, 0, source.baseAddress, 0, nil)
        }
        guard measured != 0, size > 0 else {
            throw MRIDataError.unwritableFile(path: "<png in memory>", reason: ImageDecoder.pngMessage(image))
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let written = out.withUnsafeMutableBytes { target in
            pixels.withUnsafeBytes { source in
                png_image_write_to_memory(&image, target.baseAddress, &size, 0, source.baseAddress, 0, nil)
            }
        }
        guard written != 0 else {
            throw MRIDataError.unwritableFile(path: "<png in memory>", reason: ImageDecoder.pngMessage(image))
        }
        return PNGImage(data: Array(out.prefix(Int(size))))
    }

    /// Writes the PNG to `path` atomically (a temporary file renamed into place).
    public func writePNG(path: String) throws {
        do {
            try Data(data).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MRIDataError.unwritableFile(path: path, reason: "cannot write the PNG: \(error.localizedDescription)")
        }
    }
}
