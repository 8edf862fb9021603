import Foundation
import Testing
@testable import MRIData
import MRIData
import Tensor

@Suite struct DatasetCacheTests {
    @Test func secondLoadComesFromTheCacheAndEqualsTheFirst() throws {
        let folder = TestData.temporaryDirectory(), cache = TestData.temporaryDirectory("cache")
        defer { TestData.remove(folder); TestData.remove(cache) }
        try ManifestTests.makeFolder(folder)
        let options = LoadOptions(verbose: false)
        let image = folder + "/images/8.png"
        let fixedDate = Date(timeIntervalSince1970: 1_600_000_000)
        try FileManager.default.setAttributes([.modificationDate: fixedDate], ofItemAtPath: image)
        let first = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".rmri") }
        #expect(files.count == 1)
        // Another size is another key.
        _ = try DatasetLoader.load(path: folder, imageSize: 8, cacheDirectory: cache, options: options)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).filter { $0.hasSuffix(".rmri") }.count == 2)
        // Make decoding impossible while keeping size and time (the key): only the cache can serve now.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: image)[.size] as? NSNumber).intValue
        try Data(repeating: 0x55, count: size).write(to: URL(fileURLWithPath: image))
        try FileManager.default.setAttributes([.modificationDate: fixedDate], ofItemAtPath: image)
        expectDataError("8.png") { _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: options) }
        let second = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options)
        #expect(second == first)
    }

    @Test func changedFilesChangeTheKey() throws {
        let folder = TestData.temporaryDirectory()
        defer { TestData.remove(folder) }
        try ManifestTests.makeFolder(folder)
        let files = [folder + "/manifest.csv", folder + "/images/7.png"]
        let before = DatasetCache.key(kind: "manifest", root: folder, files: files, imageSize: 16, loaderVersion: 1)
        #expect(before == DatasetCache.key(kind: "manifest", root: folder, files: files, imageSize: 16, loaderVersion: 1))
        #expect(before != DatasetCache.key(kind: "manifest", root: folder, files: files, imageSize: 32, loaderVersion: 1))
        #expect(before != DatasetCache.key(kind: "manifest", root: folder, files: files, imageSize: 16, loaderVersion: 2))
        try TestData.writePatternPNG(folder + "/images/7.png", width: 33, height: 33)
        #expect(before != DatasetCache.key(kind: "manifest", root: folder, files: files, imageSize: 16, loaderVersion: 1))
    }

    @Test func corruptOrTruncatedCacheIsIgnoredAndRebuilt() throws {
        let folder = TestData.temporaryDirectory(), cache = TestData.temporaryDirectory("cache")
        defer { TestData.remove(folder); TestData.remove(cache) }
        try ManifestTests.makeFolder(folder)
        let options = LoadOptions(verbose: false)
        let clean = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options)
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: cache).first { $0.hasSuffix(".rmri") })
        let file = cache + "/" + name
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count - 100] ^= 0x40  // one flipped bit in the pixels
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let store = DatasetCache(directory: cache, verbose: false)
        #expect(store.read(key: String(name.dropLast(5))) == nil)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options) == clean)
        try TestData.truncate(file, to: 0.7)
        #expect(store.read(key: String(name.dropLast(5))) == nil)
        #expect(try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options) == clean)
        #expect(store.read(key: String(name.dropLast(5))) == clean)
    }

    /// Fuzzing findings (docs/fuzzing.md): a header length beyond Int.max trapped converting it to Int, and an
    /// image count near Int.max overflowed the pixel count. Both are corrupt caches now (ignored and rebuilt).
    @Test func absurdLengthsAndCountsAreCorruptCachesNotTraps() throws {
        let cache = DatasetCache(directory: "", verbose: false)
        let images = Tensor(shape: [1, 1, 2, 2], scalars: [0, 0.5, 1, 0.25])
        let file = [UInt8](try cache.encode(MRIDataset(images: images, labels: [1], sourceDescription: "t"), key: "k"))
        var longHeader = file
        for k in 12..<20 { longHeader[k] = 0xFF }
        #expect(throws: DatasetCache.CorruptCache.self) { _ = try cache.decode(Data(longHeader), key: "k") }
        let header = String(decoding: file[20..<(file.count - 12)], as: UTF8.self)
        let bigCount = header.replacingOccurrences(of: "\"count\":1", with: "\"count\":9223372036854775807")
        #expect(bigCount != header)
        var patched = Array(file[0..<12])
        withUnsafeBytes(of: UInt64(bigCount.utf8.count).littleEndian) { patched += $0 }
        patched += Array(bigCount.utf8) + Array(file[(file.count - 12)...])
        #expect(throws: DatasetCache.CorruptCache.self) { _ = try cache.decode(Data(patched), key: "k") }
    }
}
