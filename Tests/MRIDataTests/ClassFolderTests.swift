import Foundation
import Testing
@testable import MRIData
import Tensor

@Suite struct ClassFolderTests {
    @Test func trainingAndTestingBecomeFoldsOneAndTwo() throws {
        let root = TestData.temporaryDirectory()
        defer { TestData.remove(root) }
        try TestData.writePatternPNG(root + "/Training/glioma_tumor/a.png", width: 20, height: 20)
        try TestData.writePatternPNG(root + "/Training/Meningioma/b.png", width: 20, height: 20)
        try TestData.writePatternPNG(root + "/Training/PITUITARY_TUMOR/c.png", width: 20, height: 10)
        try TestData.writePatternPNG(root + "/Training/notumor/d.png", width: 20, height: 20)
        try TestData.writePatternPNG(root + "/Testing/glioma/e.png", width: 20, height: 20)
        #expect(try DataSource.detect(path: root) == .classFolders(root))
        let dataset = try DatasetLoader.load(path: root, imageSize: 8, cacheDirectory: nil,
                                             options: LoadOptions(verbose: false))
        // Sorted: Testing before Training; within Training, folder names sorted.
        #expect(dataset.labels == [TumourClass.glioma.rawValue, TumourClass.meningioma.rawValue,
                                   TumourClass.pituitary.rawValue, TumourClass.glioma.rawValue])
        #expect(dataset.folds == [2, 1, 1, 1])
        #expect(dataset.masks == nil)
        #expect(dataset.classCounts == [1, 2, 1])
        let split = try DataSplit.byFolds(dataset, testFold: 2, seed: 1)
        #expect(split.test == [0])

        expectDataError("notumor", "no-tumour") {
            _ = try DatasetLoader.load(path: root, imageSize: 8, cacheDirectory: nil,
                                       options: LoadOptions(skipNoTumourFolders: false, verbose: false))
        }
    }

    @Test func flatClassFoldersHaveNoFolds() throws {
        let root = TestData.temporaryDirectory()
        defer { TestData.remove(root) }
        try TestData.writePatternPNG(root + "/glioma/a.png", width: 12, height: 12)
        try TestData.writePatternPNG(root + "/pituitary/b.png", width: 12, height: 12)
        let dataset = try DatasetLoader.load(path: root, imageSize: 8, cacheDirectory: nil, options: LoadOptions(verbose: false))
        #expect(dataset.folds == nil)
        #expect(dataset.labels == [1, 2])
        expectDataError("Fold 1", "it has no folds", "--test-fold is left out") { _ = try DataSplit.byFolds(dataset, testFold: 1, seed: 0) }
    }

    @Test func emptyUnknownAndMissingFoldersAreTypedErrors() throws {
        let root = TestData.temporaryDirectory()
        defer { TestData.remove(root) }
        try TestData.writePatternPNG(root + "/glioma/a.png", width: 12, height: 12)
        try FileManager.default.createDirectory(atPath: root + "/meningioma", withIntermediateDirectories: true)
        try TestData.write("not an image", to: root + "/meningioma/readme.txt")
        expectDataError("meningioma", "holds no") { _ = try DatasetLoader.load(path: root, imageSize: 8, cacheDirectory: nil) }

        try TestData.writePatternPNG(root + "/meningioma/b.png", width: 12, height: 12)
        try TestData.writePatternPNG(root + "/astrocytoma/c.png", width: 12, height: 12)
        expectDataError("astrocytoma", "not a known class") { _ = try DatasetLoader.load(path: root, imageSize: 8, cacheDirectory: nil) }

        expectDataError("No such file or folder") { _ = try DatasetLoader.load(.classFolders(root + "/gone"), imageSize: 8, cacheDirectory: nil) }
        let plain = TestData.temporaryDirectory()
        defer { TestData.remove(plain) }
        expectDataError("not a dataset") { _ = try DataSource.detect(path: plain) }
    }

    /// Field case 01: macOS AppleDouble `._x.jpg` files (and other hidden or metadata entries) beside
    /// the images are skipped like hidden files, counted in one warning; the rest loads as without them.
    @Test func appleDoubleAndMetadataFilesAreSkippedWithOneWarning() throws {
        let root = TestData.temporaryDirectory()
        defer { TestData.remove(root) }
        let images = ["Training/glioma/a.png", "Training/meningioma/b.png", "Testing/pituitary/c.png"]
        for (k, image) in images.enumerated() {
            try TestData.writePatternPNG(root + "/" + image, width: 12, height: 12, seed: k)
        }
        let clean = try DatasetLoader.loadReporting(.classFolders(root), imageSize: 8, cacheDirectory: nil)
        #expect(clean.warnings.isEmpty)
        // A 4 KiB AppleDouble header (magic 00 05 16 07, "Mac OS X") beside every image, and the rest.
        let appleDouble = Data([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00] + Array("Mac OS X".utf8)
                               + [UInt8](repeating: 0, count: 4096 - 16))
        for image in images {
            let name = (image as NSString).lastPathComponent
            try appleDouble.write(to: URL(fileURLWithPath: root + "/" + (image as NSString).deletingLastPathComponent + "/._" + name))
        }
        try TestData.write("x", to: root + "/Training/glioma/.DS_Store")
        try TestData.write("x", to: root + "/Testing/pituitary/Thumbs.db")
        try FileManager.default.createDirectory(atPath: root + "/__MACOSX/Training/glioma", withIntermediateDirectories: true)
        try appleDouble.write(to: URL(fileURLWithPath: root + "/__MACOSX/Training/glioma/._a.png"))
        let loaded = try DatasetLoader.loadReporting(.classFolders(root), imageSize: 8, cacheDirectory: nil)
        #expect(loaded.dataset == clean.dataset)
        #expect(loaded.warnings.count == 1)
        let warning = try #require(loaded.warnings.first)
        #expect(warning.contains("skipped 6 hidden or metadata file(s)") && warning.contains("3 of them macOS AppleDouble"), "\(warning)")
        #expect(try DataSource.detect(path: root) == .classFolders(root))
    }
}
