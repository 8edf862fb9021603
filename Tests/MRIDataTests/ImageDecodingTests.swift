import CTurboJPEG
import Foundation
import Testing
@testable import MRIData

/// Decoding faults from the field: files that are valid but unusual must decode to their stored
/// values (field cases 02, 03, 04), and a dataset may leave out what it cannot read.
@Suite struct ImageDecodingTests {
    static let width = 64, height = 48

    /// Field case 02: gAMA (and cHRM) chunks must not change the intensities: an 8-bit file with gAMA
    /// 1.0 and a 16-bit one with gAMA 1/2.2 decode to their stored values, as a plain file does.
    @Test func pngColourSpaceChunksDoNotChangeTheStoredValues() throws {
        let stored = ImageFixture.pattern(width: Self.width, height: Self.height).map(UInt16.init)
        let cases: [(bitDepth: Int, scale: UInt16, chunks: ImageFixture.Chunks)] = [
            (8, 1, .init()),
            (8, 1, .init(gamma: 100_000)),
            (16, 257, .init(gamma: 45_455)),
            (8, 1, .init(gamma: 100_000, chromaticities: true)),
            (16, 257, .init(gamma: 220_000, chromaticities: true)),
        ]
        for (bitDepth, scale, chunks) in cases {
            let png = try ImageFixture.greyPNG(stored.map { $0 * scale }, width: Self.width, height: Self.height,
                                               bitDepth: bitDepth, chunks: chunks)
            #expect(ImageFixture.chunkTypes(png).contains("gAMA") == (chunks.gamma != nil))
            let decoded = try ImageDecoder().decode(png, path: "\(bitDepth)-bit.png")
            #expect(decoded.pixels == stored.map { Float($0 * scale) }, "\(bitDepth)-bit PNG with \(chunks)")
            let types = ImageFixture.chunkTypes(ImageDecoder.withoutColourSpaceChunks(png))
            #expect(types.first == "IHDR" && types.last == "IEND" && types.contains("IDAT"))
            #expect(ImageDecoder.colourSpaceChunks.isDisjoint(with: types))
        }
    }

    /// Field case 03: a CMYK JPEG (YCCK with an Adobe marker, inverted, as Photoshop and Pillow write
    /// it) decodes to grey, equal to the grey JPEG of the same image within JPEG tolerance.
    @Test func cmykJPEGDecodesToItsGreyCopy() throws {
        let grey = ImageFixture.pattern(width: Self.width, height: Self.height)
        // Adobe-inverted CMYK of grey g: stored C = M = Y = g (ink 255 - g), K = 255 (no black ink).
        let cmyk = grey.flatMap { g -> [UInt8] in [g, g, g, 255] }
        let cmykFile = try ImageFixture.jpeg(cmyk, width: Self.width, height: Self.height, format: TJPF_CMYK)
        #expect(ImageDecoder.hasAdobeMarker(cmykFile))
        let greyFile = try ImageFixture.jpeg(grey, width: Self.width, height: Self.height, format: TJPF_GRAY)
        #expect(!ImageDecoder.hasAdobeMarker(greyFile))
        let decoder = ImageDecoder()
        let fromCMYK = try decoder.decode(cmykFile, path: "cmyk.jpg")
        let fromGrey = try decoder.decode(greyFile, path: "grey.jpg")
        #expect(fromCMYK.width == Self.width && fromCMYK.height == Self.height)
        let differences = zip(fromCMYK.pixels, fromGrey.pixels).map { abs($0 - $1) }
        let largest = differences.max() ?? 0, mean = differences.reduce(0, +) / Float(differences.count)
        #expect(largest <= 6 && mean < 1, "CMYK and grey copies differ by up to \(largest) of 255, \(mean) on average")
        #expect(decoder.takeWarnings().isEmpty)
        // The conversion itself, both conventions: white paper, full black ink, half of each ink.
        #expect(ImageDecoder.greyFromCMYK([0, 0, 0, 0, 0, 0, 0, 255], inverted: false) == [255, 0])
        #expect(ImageDecoder.greyFromCMYK([255, 255, 255, 255, 255, 255, 255, 0], inverted: true) == [255, 0])
        #expect(ImageDecoder.greyFromCMYK([255, 0, 0, 0], inverted: false) == [(255 * 0.701).rounded()])
    }

    /// Field case 04: bytes before EOI make libjpeg warn, but every pixel decodes: the image is used,
    /// with a warning naming the file. A truncated stream stays an error. (16 bytes, not the field
    /// file's 2: the Huffman decoder reads up to 8 bytes ahead, and the bytes it swallows are no warning.)
    @Test func harmlessJPEGWarningKeepsThePixelsAndIsReported() throws {
        let grey = ImageFixture.pattern(width: Self.width, height: Self.height)
        let file = try ImageFixture.jpeg(grey, width: Self.width, height: Self.height, format: TJPF_GRAY)
        #expect(Array(file.suffix(2)) == [0xFF, 0xD9])
        let padded = Array(file.dropLast(2)) + [UInt8](repeating: 0, count: 16) + [0xFF, 0xD9]
        let decoder = ImageDecoder()
        let reference = try decoder.decode(file, path: "reference.jpg")
        #expect(decoder.takeWarnings().isEmpty)
        #expect(try decoder.decode(padded, path: "padded.jpg") == reference)
        let warnings = decoder.takeWarnings()
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("padded.jpg") == true)
        #expect(warnings.first?.contains("extraneous bytes") == true)
        #expect(decoder.warnings.isEmpty)

        let truncated = Array(file.prefix(file.count * 6 / 10))
        expectDataError("truncated.jpg", "damaged") { _ = try decoder.decode(truncated, path: "truncated.jpg") }
    }

    /// Field case 04, the dataset side: an unreadable file stops the load unless `skipUnreadable`,
    /// which leaves it out and names it in one warning; a forgiven JPEG warning is reported too.
    @Test func skipUnreadableLeavesOutTheFileAndNamesIt() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        let grey = ImageFixture.pattern(width: Self.width, height: Self.height)
        let file = try ImageFixture.jpeg(grey, width: Self.width, height: Self.height, format: TJPF_GRAY)
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        try Data(file).write(to: URL(fileURLWithPath: folder + "/images/1.jpg"))
        try Data(Array(file.dropLast(2)) + [UInt8](repeating: 0, count: 16) + [0xFF, 0xD9]).write(to: URL(fileURLWithPath: folder + "/images/2.jpg"))
        try Data(file.prefix(300)).write(to: URL(fileURLWithPath: folder + "/images/3.jpg"))
        try TestData.write("id,label,file\n1,1,images/1.jpg\n2,2,images/2.jpg\n3,3,images/3.jpg\n", to: folder + "/manifest.csv")

        expectDataError("3.jpg") { _ = try DatasetLoader.loadReporting(.manifest(folder), imageSize: 16, cacheDirectory: nil) }
        let (dataset, warnings) = try DatasetLoader.loadReporting(
            .manifest(folder), imageSize: 16, cacheDirectory: nil, options: LoadOptions(verbose: false, skipUnreadable: true))
        #expect(dataset.sourceIDs == [1, 2])
        #expect(dataset.images.items(0..<1) == dataset.images.items(1..<2))
        #expect(warnings.count == 2)
        #expect(warnings.contains { $0.contains("2.jpg") && $0.contains("extraneous bytes") })
        #expect(warnings.contains { $0.contains("skipped 1 unreadable file") && $0.contains("3.jpg") })
    }

    /// Fuzzing finding (docs/fuzzing.md): a 173-byte PNG whose second chunk declared 1.7 GB made libpng allocate
    /// 1.7 GB and spend 9 s before refusing it. Every chunk length is now checked against the file first.
    @Test func pngChunkLongerThanTheFileIsRefusedBeforeLibpng() throws {
        let png = try PNGImage.encode(gray: ImageFixture.pattern(width: 6, height: 4), width: 6, height: 4).data
        // After the 8-byte signature and the 25-byte IHDR chunk: a chunk header declaring 0x68495354 bytes.
        let damaged = Array(png[..<33]) + [0x68, 0x49, 0x53, 0x54] + Array("sPLT".utf8) + Array(png[33...])
        #expect(ImageDecoder.overlongChunk(png) == nil)
        #expect(ImageDecoder.overlongChunk(damaged)?.contains("sPLT at byte 33 declares 1749635924 bytes") == true)
        expectDataError("damaged.png", "PNG data is damaged", "sPLT") { _ = try ImageDecoder().decode(damaged, path: "damaged.png") }
        // A PNG cut short inside a chunk is reported the same way.
        expectDataError("cut.png", "PNG data is damaged") { _ = try ImageDecoder().decode(Array(png.dropLast(20)), path: "cut.png") }
    }

    /// A header declaring a side beyond `ImageDecoder.maximumSide` is refused before the pixels are allocated
    /// (a JPEG may declare 65,535 x 65,535, a PNG up to libpng's 1,000,000 x 1,000,000), a narrow image too: it
    /// would be padded to a square of its longer side (fuzz finding 16).
    @Test func imagesLargerThanTheLimitAreRefusedBeforeAllocation() throws {
        let file = try ImageFixture.jpeg(ImageFixture.pattern(width: 8, height: 8), width: 8, height: 8, format: TJPF_GRAY)
        // The SOF0 segment: FF C0, length (2), precision (1), height (2), width (2).
        let sof = try #require((0..<(file.count - 1)).first { file[$0] == 0xFF && file[$0 + 1] == 0xC0 })
        var huge = file
        huge[sof + 5] = 0xEA; huge[sof + 6] = 0x60  // height 60000
        huge[sof + 7] = 0xEA; huge[sof + 8] = 0x60  // width 60000
        expectDataError("huge.jpg", "60000 x 60000", "8192 x 8192") { _ = try ImageDecoder().decode(huge, path: "huge.jpg") }
        #expect(ImageDecoder.tooLarge(width: 8192, height: 8192) == nil)
        #expect(ImageDecoder.tooLarge(width: 8193, height: 8192) != nil)
        #expect(ImageDecoder.tooLarge(width: 1, height: 65_535) != nil)
        let tall = try PNGImage.encode(gray: [UInt8](repeating: 7, count: 8193), width: 1, height: 8193).data
        expectDataError("tall.png", "1 x 8193", "8192 x 8192") { _ = try ImageDecoder().decode(tall, path: "tall.png") }
    }
}
