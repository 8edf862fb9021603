import Foundation
import Testing
import MRIData
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
        expectDataError("Fold 1", "has folds") { _ = try DataSplit.byFolds(dataset, testFold: 1, seed: 0) }
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
}
