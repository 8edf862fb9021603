import CTurboJPEG
import Foundation
import Tensor
import TestSupport
import Testing
@testable import MRIData

/// The seed corpora of the MRIData fuzz targets (Fuzz/Corpus/{jpeg,png,mat,manifest,cache}): written by
/// the package's own writers with `ROBUST_MRI_WRITE_FUZZ_CORPUS=1`, and checked to load otherwise
/// (see `FuzzCorpus`). Each check calls the loader as the fuzz target does.
@Suite struct FuzzCorpusTests {
    @Test func jpegSeedsDecode() throws {
        let pattern = ImageFixture.pattern(width: 12, height: 10)
        try FuzzCorpus.offer(try ImageFixture.jpeg(pattern, width: 12, height: 10, format: TJPF_GRAY), target: "jpeg", name: "grey.jpg")
        let rgb = (0..<(8 * 8 * 3)).map { UInt8(($0 * 37) % 256) }
        try FuzzCorpus.offer(try ImageFixture.jpeg(rgb, width: 8, height: 8, format: TJPF_RGB), target: "jpeg", name: "ycbcr.jpg")
        try FuzzCorpus.offer(try ImageFixture.jpeg(rgb, width: 8, height: 8, format: TJPF_RGB, chroma420: true, progressive: true),
                             target: "jpeg", name: "ycbcr420-progressive.jpg")
        try FuzzCorpus.offer(try ImageFixture.jpeg(pattern, width: 12, height: 10, format: TJPF_GRAY, progressive: true),
                             target: "jpeg", name: "grey-progressive.jpg")
        let cmyk = (0..<(8 * 8 * 4)).map { UInt8(($0 * 53) % 256) }
        try FuzzCorpus.offer(try ImageFixture.jpeg(cmyk, width: 8, height: 8, format: TJPF_CMYK), target: "jpeg", name: "cmyk.jpg")
        let decoder = ImageDecoder()
        for (name, bytes) in try FuzzCorpus.seeds("jpeg") {
            #expect(throws: Never.self, "\(name)") { _ = try decoder.decodeJPEG(bytes, path: name) }
        }
    }

    @Test func pngSeedsDecode() throws {
        let grey = ImageFixture.pattern(width: 8, height: 8).map(UInt16.init)
        try FuzzCorpus.offer(try ImageFixture.greyPNG(grey, width: 8, height: 8, bitDepth: 8,
                                                      chunks: .init(gamma: 100_000, chromaticities: true)),
                             target: "png", name: "grey8-gamma.png")
        try FuzzCorpus.offer(try ImageFixture.greyPNG(grey.map { $0 * 257 }, width: 8, height: 8, bitDepth: 16, chunks: .init()),
                             target: "png", name: "grey16.png")
        try FuzzCorpus.offer(try PNGImage.encode(rgb: (0..<(6 * 4 * 3)).map { UInt8($0 * 3) }, width: 6, height: 4).data,
                             target: "png", name: "rgb.png")
        for (name, bytes) in try FuzzCorpus.seeds("png") {
            #expect(throws: Never.self, "\(name)") { _ = try ImageDecoder.decodePNG(bytes, path: name) }
        }
    }

    @Test func matSeedsLoad() throws {
        let folder = TestData.temporaryDirectory("fuzz-mat")
        defer { TestData.remove(folder) }
        let slice = folder + "/slice.mat", folds = folder + "/cvind.mat"
        try MATFixture.writeSlice(slice, label: 2, patient: "P7", image: (0..<48).map { Int16($0 * 40 - 900) },
                                  mask: (0..<48).map { $0 % 7 < 3 ? 1 : 0 }, rows: 8, columns: 6)
        try MATFixture.writeFoldIndex(folds, folds: [1, 2, 3, 4, 5])
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: slice))), target: "mat", name: "slice.mat")
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: folds))), target: "mat", name: "cvind.mat")
        for (name, bytes) in try FuzzCorpus.seeds("mat") {
            let path = folder + "/1.mat"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: Never.self, "\(name)") {
                if name.contains("cvind") {
                    _ = try FigshareMatReader.readFoldIndex(path)
                } else {
                    _ = try DatasetLoader.decoded(try FigshareMatReader(folder: folder), imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
                }
            }
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// The images the manifest seeds name, as Fuzz/Sources/fuzz-manifest makes them.
    static func writeManifestImages(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        try PNGImage.encode(gray: (0..<48).map { UInt8($0 * 5) }, width: 8, height: 6).writePNG(path: folder + "/images/1.png")
        try PNGImage.encode(gray16: (0..<30).map { UInt16($0 * 2000) }, width: 5, height: 6).writePNG(path: folder + "/images/2.png")
        try PNGImage.encode(rgb: (0..<36).map { UInt8($0 * 7) }, width: 4, height: 3).writePNG(path: folder + "/3.png")
    }

    /// A manifest fuzz input as Fuzz/Sources/fuzz-manifest writes it: up to the first NUL byte `manifest.csv`,
    /// the rest (if any) `borders.csv`.
    static func writeManifestInput(_ bytes: [UInt8], to folder: String) throws {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        try Data(parts[0]).write(to: URL(fileURLWithPath: folder + "/manifest.csv"))
        try? FileManager.default.removeItem(atPath: folder + "/borders.csv")
        if parts.count > 1 { try Data(parts[1]).write(to: URL(fileURLWithPath: folder + "/borders.csv")) }
    }

    @Test func manifestSeedsLoad() throws {
        let withBorders = "file,label,id,fold,patient\nimages/1.png,1,1,1,P1\nimages/2.png,2,2,2,P2\n3.png,3,3.0,3,P3\n"
            + "\0id,border_xy\n1,1 1 6 1 6 5 1 5\n2,0.5 0 4 0 4 4.5\n"
        let byClass = "\u{FEFF}file,class,notes\r\n\"images/1.png\",glioma,\"a, b\"\r\n3.png,pituitary_tumor,\"\"\"x\"\"\"\r\n"
            + "__MACOSX/._3.png,glioma,\r\n"
        try FuzzCorpus.offer(Array(withBorders.utf8), target: "manifest", name: "labels-borders.csv")
        try FuzzCorpus.offer(Array(byClass.utf8), target: "manifest", name: "classes-quoted.csv")
        let folder = TestData.temporaryDirectory("fuzz-manifest")
        defer { TestData.remove(folder) }
        try Self.writeManifestImages(folder)
        for (name, bytes) in try FuzzCorpus.seeds("manifest") {
            try Self.writeManifestInput(bytes, to: folder)
            #expect(throws: Never.self, "\(name)") {
                _ = try DatasetLoader.decoded(try ManifestReader(folder: folder), imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
        }
    }

    /// The key of the cache seeds, which Fuzz/Sources/fuzz-cache passes to `decode`.
    static let cacheKey = "00000000000000000000000000f0220a"

    @Test func cacheSeedsDecode() throws {
        let size = 4
        let images = Tensor(shape: [2, 1, size, size], scalars: (0..<32).map { Float($0 % 16) / 15 })
        let masks = Tensor(shape: [2, 1, size, size], scalars: (0..<32).map { $0 % 3 == 0 ? 1 : 0 })
        let cache = DatasetCache(directory: "", verbose: false)
        let full = MRIDataset(images: images, labels: [0, 2], folds: [1, 4], patientIDs: ["P1", "P\u{e9}"], masks: masks,
                              sourceIDs: [7, 9], sourceDescription: "fuzz seed")
        let plain = MRIDataset(images: images, labels: [1, 1], sourceDescription: "fuzz seed without masks")
        try FuzzCorpus.offer([UInt8](try cache.encode(full, key: Self.cacheKey)), target: "cache", name: "masks-folds.rmri")
        try FuzzCorpus.offer([UInt8](try cache.encode(plain, key: Self.cacheKey)), target: "cache", name: "plain.rmri")
        for (name, bytes) in try FuzzCorpus.seeds("cache") {
            #expect(throws: Never.self, "\(name)") { _ = try cache.decode(Data(bytes), key: Self.cacheKey) }
        }
    }

    /// Every input that once crashed an MRIData fuzz target goes through the same calls again (errors are
    /// fine, a trap would end the test run); what each now reports is checked beside the loader's tests.
    @Test func findingsNoLongerCrash() throws {
        let decoder = ImageDecoder()
        for (_, bytes) in try FuzzCorpus.findings("jpeg") { _ = try? decoder.decodeJPEG(bytes, path: "finding.jpg") }
        for (_, bytes) in try FuzzCorpus.findings("png") { _ = try? ImageDecoder.decodePNG(bytes, path: "finding.png") }
        for (_, bytes) in try FuzzCorpus.findings("cache") {
            _ = try? DatasetCache(directory: "", verbose: false).decode(Data(bytes), key: Self.cacheKey)
        }
        let folder = TestData.temporaryDirectory("fuzz-findings")
        defer { TestData.remove(folder) }
        for (_, bytes) in try FuzzCorpus.findings("mat") {
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/1.mat"))
            if let reader = try? FigshareMatReader(folder: folder) {
                _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
            _ = try? FigshareMatReader.readFoldIndex(folder + "/1.mat")
        }
        try FileManager.default.removeItem(atPath: folder + "/1.mat")
        try Self.writeManifestImages(folder)
        for (_, bytes) in try FuzzCorpus.findings("manifest") {
            try Self.writeManifestInput(bytes, to: folder)
            if let reader = try? ManifestReader(folder: folder) {
                _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
        }
    }
}
