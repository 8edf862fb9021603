import Foundation
import Testing
import MRIData
import Tensor

@Suite struct ManifestTests {
    /// A manifest folder: 32x32 8-bit, 16x16 8-bit (odd size among the rest), 24x32 16-bit PNG;
    /// CRLF line ends and a quoted field with a comma; borders for id 7 (a square).
    static func makeFolder(_ folder: String) throws {
        try TestData.writePatternPNG(folder + "/images/7.png", width: 32, height: 32)
        try TestData.writePatternPNG(folder + "/images/8.png", width: 16, height: 16, seed: 5)
        let wide = (0..<(32 * 24)).map { UInt16($0 * 50) }
        try PNGImage.encode(gray16: wide, width: 32, height: 24).writePNG(path: folder + "/images/9.png")
        try TestData.write("id,label,class,fold,file,note\r\n7,1,meningioma,1,images/7.png,\"plain\"\r\n"
                           + "8,2,glioma,2,images/8.png,\"with, comma and \"\"quotes\"\"\"\r\n9,3,pituitary,1,images/9.png,x\r\n",
                           to: folder + "/manifest.csv")
        try TestData.write("id,border_xy\n7,8 8 24 8 24 24 8 24\n", to: folder + "/borders.csv")
    }

    @Test func loadsPNGsOfMixedSizesAndDepthsWithMasks() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try Self.makeFolder(folder)
        #expect(try DataSource.detect(path: folder) == .manifest(folder))
        let dataset = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil)
        #expect(dataset.labels == [0, 1, 2])
        #expect(dataset.folds == [1, 2, 1])
        #expect(dataset.sourceIDs == [7, 8, 9])
        #expect(dataset.patientIDs == nil)
        #expect(dataset.images.shape == [3, 1, 16, 16])
        #expect(dataset.images.min() >= 0 && dataset.images.max() <= 1)
        // The 16x16 image is used as is: x / max(x), quantised to 1/255.
        let pattern: [Float] = (0..<256).map { (i: Int) -> Float in
            let value: Int = ((i / 16) * 7 + (i % 16) * 3 + 5) % 200 + 20
            return Float(value)
        }
        let expected = Preprocessing.preprocessed(pixels: pattern, width: 16, height: 16, size: 16)
        #expect(dataset.images.items(1..<2).scalars == expected)
        // 16-bit, 32 wide x 24 high: padded by 4 rows top and bottom, then halved: rows 0-1 are zero.
        let wide = dataset.images.items(2..<3).scalars
        #expect(wide[0..<32].allSatisfy { $0 == 0 })
        #expect(wide[16 * 13 + 15] > 0.9)
        #expect(wide[16 * 15 + 15] == 0)
        // Mask of id 7: square 8..24 of 32 -> 4..12 of 16, 64 pixels; no border -> empty masks.
        let masks = try #require(dataset.masks)
        #expect(masks.items(0..<1).sum() == 64)
        #expect(masks.scalars[5 * 16 + 5] == 1 && masks.scalars[2 * 16 + 2] == 0)
        #expect(masks.items(1..<3).sum() == 0)
    }

    @Test func csvHandlesQuotesCRLFAndReportsTruncation() throws {
        let table = try CSVTable(text: "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",3\r\n", path: "t.csv")
        #expect(table.rows == [["x, y", "say \"hi\""], ["two\nlines", "3"]])
        #expect(table.lineNumbers == [2, 3])
        expectDataError("t.csv", "line 3", "fields") { _ = try CSVTable(text: "a,b\n1,2\n3\n", path: "t.csv") }
        expectDataError("t.csv", "never closed") { _ = try CSVTable(text: "a,b\n1,\"2\n", path: "t.csv") }
        expectDataError("t.csv", "empty") { _ = try CSVTable(text: "", path: "t.csv") }
    }

    @Test func brokenManifestsAreTypedErrorsNamingTheFile() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try Self.makeFolder(folder)
        let manifest = folder + "/manifest.csv"
        func load() throws { _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil) }

        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n8,4,1,images/8.png\n", to: manifest)
        expectDataError("manifest.csv line 3", "label 4") { try load() }

        // Field case 05: `;` (Excel's CSV in locales with a decimal comma) or tabs: the separator is named,
        // not a missing column and quoting. A one-column CSV without those characters is still CSV.
        try TestData.write("id;label;fold;file\n7;1;1;images/7.png\n8;2;2;images/8.png\n", to: manifest)
        expectDataError("manifest.csv must be comma-separated; found ';'") { try load() }
        try TestData.write("id\tlabel\tfold\tfile\n7\t1\t1\timages/7.png\n", to: manifest)
        expectDataError("manifest.csv must be comma-separated; found a tab") { try load() }
        #expect(try CSVTable(text: "file\nimages/7.png\n", path: "one.csv").header == ["file"])

        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n8,2,1,images/missing.png\n", to: manifest)
        expectDataError("images/missing.png", "manifest.csv") { try load() }

        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n8,2,1,images/8", to: manifest)  // cut mid-row
        expectDataError("images/8", "does not exist") { try load() }

        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n8,2\n", to: manifest)
        expectDataError("manifest.csv", "line 3") { try load() }

        try TestData.write("id,fold,file\n7,1,images/7.png\n", to: manifest)
        expectDataError("manifest.csv", "label") { try load() }

        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n9,3,1,images/9.png\n", to: manifest)
        try TestData.truncate(folder + "/images/9.png", to: 0.6)
        expectDataError("9.png", "PNG") { try load() }

        try Data([0x89, 0x50, 0x4E]).write(to: URL(fileURLWithPath: folder + "/images/9.png"))
        expectDataError("9.png", "neither a JPEG, a PNG, a DICOM nor a NIfTI") { try load() }

        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/images/9.png"))
        expectDataError("9.png", "JPEG") { try load() }

        try TestData.write("id,border_xy\n7,8 8 24\n", to: folder + "/borders.csv")
        expectDataError("borders.csv", "line 2") { try load() }

        expectDataError("No such file or folder", folder + "/absent") {
            _ = try DatasetLoader.load(path: folder + "/absent", imageSize: 16, cacheDirectory: nil)
        }
    }

    @Test func pngWriterRoundTripsGreyAndRGB() throws {
        let grey = (0..<(5 * 3)).map { UInt8($0 * 17) }
        let png = try PNGImage.encode(gray: grey, width: 5, height: 3)
        let decoded = try ImageDecoder().decode(png.data, path: "grey.png")
        #expect(decoded.width == 5 && decoded.height == 3)
        #expect(decoded.pixels == grey.map(Float.init))
        // Pure grey RGB decodes to the same grey.
        let rgb = grey.flatMap { [$0, $0, $0] }
        let rgbDecoded = try ImageDecoder().decode(try PNGImage.encode(rgb: rgb, width: 5, height: 3).data, path: "rgb.png")
        #expect(rgbDecoded.pixels == grey.map(Float.init))
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try png.writePNG(path: folder + "/out.png")
        #expect(FileManager.default.contents(atPath: folder + "/out.png").map { [UInt8]($0) } == png.data)
        expectDataError("cannot write") { try png.writePNG(path: folder + "/no/such/dir/out.png") }
    }

    /// Field case 01 in a manifest made by listing a copied folder: rows naming AppleDouble or other
    /// metadata files are skipped and counted in one warning.
    @Test func metadataRowsAreSkippedWithOneWarning() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try Self.makeFolder(folder)
        try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: folder + "/images/._7.png"))
        try TestData.write("id,label,fold,file\n7,1,1,images/7.png\n70,1,1,images/._7.png\n71,1,1,__MACOSX/images/._8.png\n"
                           + "8,2,2,images/8.png\n", to: folder + "/manifest.csv")
        let (dataset, warnings) = try DatasetLoader.loadReporting(.manifest(folder), imageSize: 16, cacheDirectory: nil)
        #expect(dataset.sourceIDs == [7, 8])
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("skipped 2 hidden or metadata file(s)") == true)
    }

    /// Fuzzing finding (docs/fuzzing.md): an outline vertex at 9.2e19 pixels overflowed the conversion of a
    /// crossing to a column. Crossings are now held within a pixel of the image; "nan" and "inf" (which parse
    /// as Doubles) are no coordinates.
    @Test func farOutOrNonFiniteOutlineVerticesNeitherTrapNorPass() throws {
        let square = [(x: -1e300, y: -1e300), (x: 1e300, y: -1e300), (x: 1e300, y: 1e300), (x: -1e300, y: 1e300)]
        #expect(PolygonFill.mask(points: square, size: 4) == [Float](repeating: 1, count: 16))
        let overflowing = [(x: 0.0, y: 0.0), (x: Double.infinity, y: 1), (x: -Double.infinity, y: 3)]
        #expect(PolygonFill.mask(points: overflowing, size: 4).count == 16)
        #expect(PolygonFill.points(fromBorder: "1 1 nan 2 3 3") == nil)
        #expect(PolygonFill.points(fromBorder: "1 1 inf 2 3 3") == nil)
        #expect(PolygonFill.points(fromBorder: "0.5 0 92233720368547758074 0 4 4.5")?.count == 3)
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try Self.makeFolder(folder)
        try TestData.write("id,border_xy\n7,1 1 nan 2 3 3\n", to: folder + "/borders.csv")
        expectDataError("borders.csv", "line 2", "finite numbers") {
            _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: LoadOptions(verbose: false))
        }
    }
}
