import Foundation
import Testing
import MRIData
import Tensor

/// Tests on the real figshare-jpg copy (needs ../shared/data beside the package, or $ROBUST_MRI_DATA; skipped without).
@Suite struct RealDataTests {
    /// A manifest of the first `rows` entries, pointing at the real images through a symlink.
    static func subsetFolder(rows: Int) throws -> String {
        let folder = TestData.temporaryDirectory("figshare-subset")
        let source = TestData.path("figshare-jpg")
        try FileManager.default.createSymbolicLink(atPath: folder + "/images", withDestinationPath: source + "/images")
        let lines = try String(contentsOfFile: source + "/manifest.csv", encoding: .utf8).split(whereSeparator: \.isNewline)
        try TestData.write(lines.prefix(rows + 1).joined(separator: "\n") + "\n", to: folder + "/manifest.csv")
        try FileManager.default.copyItem(atPath: source + "/borders.csv", toPath: folder + "/borders.csv")
        return folder
    }

    @Test(.enabled(if: TestData.has("figshare-jpg/manifest.csv"), "the real figshare-jpg copy is absent: set ROBUST_MRI_DATA"))
    func loadsRealJPEGsWithMasks() throws {
        let folder = try Self.subsetFolder(rows: 40)
        defer { TestData.remove(folder) }
        let dataset = try DatasetLoader.load(path: folder, imageSize: 64, cacheDirectory: nil)
        #expect(dataset.count == 40)
        #expect(Array(dataset.sourceIDs.prefix(25)) == Array(1...25))  // then 32...: fold 4 is withheld
        #expect(dataset.images.min() >= 0)
        let masks = try #require(dataset.masks)
        for i in 0..<40 {
            let image = dataset.images.items(i..<(i + 1))
            #expect(image.max() <= 1 && image.max() > 0.3)
            let area = masks.items(i..<(i + 1)).sum()
            #expect(area > 0 && area < 64 * 64 / 2, "slice \(dataset.sourceIDs[i]): mask area \(area)")
            // The tumour is enhancing: brighter on average than the whole slice.
            let inside = zip(image.scalars, masks.items(i..<(i + 1)).scalars).filter { $0.1 > 0 }.map(\.0)
            #expect(inside.reduce(0, +) / Float(inside.count) > image.mean(), "slice \(dataset.sourceIDs[i])")
        }
    }

    @Test(.enabled(if: TestData.has("figshare-jpg/images/1.jpg"), "the real figshare-jpg copy is absent: set ROBUST_MRI_DATA"))
    func truncatedRealJPEGIsATypedError() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try FileManager.default.copyItem(atPath: TestData.path("figshare-jpg/images/1.jpg"), toPath: folder + "/1.jpg")
        let decoded = try ImageDecoder().decodeFile(folder + "/1.jpg")
        #expect(decoded.width == 512 && decoded.height == 512)
        try TestData.truncate(folder + "/1.jpg", to: 0.6)
        expectDataError("1.jpg", "JPEG") { _ = try ImageDecoder().decodeFile(folder + "/1.jpg") }
    }
}
