import CPNG
import CTurboJPEG
import Foundation

/// Writes the image files of the decoding tests: grey PNGs with colour-space chunks through libpng's
/// full write API (the simplified API the package uses picks its own chunks), and JPEGs through
/// TurboJPEG (grey, or CMYK as Photoshop and Pillow write it: Adobe marker, inverted values).
enum ImageFixture {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A smooth 8-bit test pattern of `width` x `height`, row-major, in 20...219.
    static func pattern(width: Int, height: Int) -> [UInt8] {
        (0..<(width * height)).map { i in
            let r = Double(i / width), c = Double(i % width)
            return UInt8(120 + 99 * sin(r / 7) * cos(c / 5))
        }
    }

    /// Colour-space chunks for `greyPNG`; nil fields are not written.
    struct Chunks {
        /// gAMA, in units of 1/100000 (45455 = 1/2.2, 100000 = linear).
        var gamma: Int32?
        /// cHRM with made-up (not sRGB) primaries.
        var chromaticities = false
    }

    /// A grey PNG of 8 or 16 bits (`values` row-major, at most 2^bitDepth - 1) with `chunks`.
    static func greyPNG(_ values: [UInt16], width: Int, height: Int, bitDepth: Int, chunks: Chunks) throws -> [UInt8] {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("fixture-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let file = fopen(path, "wb") else { throw Failure(description: "cannot create \(path)") }
        // libpng's default error handler aborts: acceptable in a test fixture given valid settings.
        var png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil)
        var info = png_create_info_struct(png)
        png_init_io(png, file)
        png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), Int32(bitDepth), PNG_COLOR_TYPE_GRAY,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        if let gamma = chunks.gamma { png_set_gAMA_fixed(png, info, png_fixed_point(gamma)) }
        if chunks.chromaticities {
            png_set_cHRM_fixed(png, info, 31270, 32900, 67000, 33000, 21000, 71000, 14000, 8000)
        }
        png_write_info(png, info)
        for row in 0..<height {
            let line = values[(row * width)..<((row + 1) * width)]
            // PNG samples are big-endian.
            var bytes = bitDepth == 16 ? line.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } : line.map { UInt8($0) }
            bytes.withUnsafeMutableBufferPointer { png_write_row(png, $0.baseAddress) }
        }
        png_write_end(png, nil)
        png_destroy_write_struct(&png, &info)
        fclose(file)
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "no \(path)") }
        return [UInt8](data)
    }

    /// A JPEG through TurboJPEG: `pixels` in `format` (TJPF_GRAY: 1 byte a pixel, TJPF_CMYK: 4),
    /// quality 95, no chroma subsampling unless `chroma420`, baseline unless `progressive`. A CMYK source is
    /// stored as YCCK with an Adobe APP14 marker.
    static func jpeg(_ pixels: [UInt8], width: Int, height: Int, format: TJPF, chroma420: Bool = false,
                     progressive: Bool = false) throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw Failure(description: "tjInitCompress failed") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let subsampling = format == TJPF_GRAY ? TJSAMP_GRAY : chroma420 ? TJSAMP_420 : TJSAMP_444
        let status = pixels.withUnsafeBufferPointer { source in
            tjCompress2(handle, source.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue),
                        &buffer, &size, Int32(subsampling.rawValue), 95, progressive ? TJFLAG_PROGRESSIVE : 0)
        }
        defer { tjFree(buffer) }
        guard status == 0, let buffer else { throw Failure(description: "tjCompress2 failed") }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    /// The chunk types of a PNG file, in order.
    static func chunkTypes(_ png: [UInt8]) -> [String] {
        var types: [String] = []
        var i = 8
        while i + 8 <= png.count {
            let length = png[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            types.append(String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self))
            i += 12 + length
        }
        return types
    }
}
