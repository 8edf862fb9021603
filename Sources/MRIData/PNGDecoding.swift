import CPNG
import Foundation

extension ImageDecoder {
    /// Chunks that tell libpng how the stored values map to light: gAMA, cHRM, sRGB, iCCP, and the PNG
    /// third edition's cICP, mDCV, cLLI (either spelling).
    static let colourSpaceChunks: Set<String> = ["gAMA", "cHRM", "sRGB", "iCCP", "cICP", "mDCV", "mDCv", "cLLI", "cLLi"]

    /// The PNG without its colour-space chunks (`colourSpaceChunks`); every other byte as it was.
    ///
    /// MRI intensities are data, not light: they must be read as stored. libpng's simplified API always
    /// converts from the file's gamma to the output's (sRGB for 8-bit output, linear for 16-bit): a
    /// `gAMA` of 1.0 on an 8-bit file, or of 1/2.2 on a 16-bit one, changed every intensity. Without
    /// these chunks libpng takes an 8-bit file as sRGB and a 16-bit one as linear, the encodings of the
    /// outputs we ask for, so no transform applies. A chunk is 4 bytes of length, 4 of type, the data and
    /// a 4-byte CRC; a truncated file is passed on as it is, for libpng to report.
    static func withoutColourSpaceChunks(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 8 else { return bytes }
        var out = Array(bytes[0..<8])
        out.reserveCapacity(bytes.count)
        var i = 8
        while i + 8 <= bytes.count {
            let length = bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let end = Swift.min(bytes.count, i + 12 + length)
            if !colourSpaceChunks.contains(type) { out += bytes[i..<end] }
            i = end
        }
        out += bytes[i...]
        return out
    }

    /// A message naming the first chunk (before IEND) whose declared length runs past the end of the file;
    /// nil when every chunk fits.
    ///
    /// libpng allocates a chunk's declared length before it reads the chunk: with libpng 1.6.39 a 200-byte
    /// file declaring a 1.7 GB sPLT chunk took 1.7 GB and 9 s to be refused (found by fuzzing, see
    /// docs/fuzzing.md). Checked before libpng sees the file, a damaged header costs nothing.
    static func overlongChunk(_ bytes: [UInt8]) -> String? {
        var i = 8
        while i + 8 <= bytes.count {
            let length = bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            if type == "IEND" { return nil }
            let available = bytes.count - i - 12
            if length > available {
                return "chunk \(type) at byte \(i) declares \(length) bytes, only \(Swift.max(available, 0)) follow"
            }
            i += 12 + length
        }
        return nil
    }

    /// PNG -> grey through libpng's simplified API: 8-bit files as `PNG_FORMAT_GRAY` (0...255),
    /// 16-bit files as `PNG_FORMAT_LINEAR_Y` (0...65535), as stored: the colour-space chunks are
    /// removed first (`withoutColourSpaceChunks`). Colour files are converted to grey by libpng.
    public static func decodePNG(_ file: [UInt8], path: String) throws -> GrayImage {
        if let problem = overlongChunk(file) {
            throw MRIDataError.unreadableFile(path: path, reason: "PNG data is damaged (\(problem))")
        }
        // libpng reads the memory until png_image_finish_read: one closure keeps the pointer valid throughout.
        return try withoutColourSpaceChunks(file).withUnsafeBytes { raw in
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw MRIDataError.unreadableFile(path: path, reason: "bad PNG header (\(pngMessage(image)))")
            }
            let sixteenBit = (image.format & PNGFormat.linearFlag) != 0
            image.format = sixteenBit ? PNGFormat.linearGray : PNGFormat.gray
            let width = Int(image.width), height = Int(image.height)
            if let problem = tooLarge(width: width, height: height) {
                png_image_free(&image)
                throw MRIDataError.unreadableFile(path: path, reason: problem)
            }
            var pixels: [Float]
            var finished: Int32
            if sixteenBit {
                var buffer = [UInt16](repeating: 0, count: width * height)
                finished = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
                pixels = buffer.map(Float.init)
            } else {
                var buffer = [UInt8](repeating: 0, count: width * height)
                finished = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
                pixels = buffer.map(Float.init)
            }
            guard finished != 0 else {
                throw MRIDataError.unreadableFile(path: path, reason: "PNG data is damaged (\(pngMessage(image)))")
            }
            return GrayImage(width: width, height: height, pixels: pixels, format: .png)
        }
    }

    /// The message libpng left in `image.message` (a fixed 64-byte C string).
    static func pngMessage(_ image: png_image) -> String {
        var message = image.message
        return withUnsafeBytes(of: &message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
