import Foundation
import Testing
@testable import MRIData
import Tensor

/// Pixels held as bytes only where that is exact, and given back as the same Float bits.
@Suite struct PixelStoreTests {
    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    @Test func multiplesOfOne255thAreHeldAsBytesAndComeBackBitForBit() {
        // Every byte, as preprocessing forms it: (x * 255).rounded() / 255.
        let bytes: [Float] = (0..<256).map { Float($0) / 255 }
        let rounded: [Float] = [0.5, 0.25, 1 / 3].map { (Float($0) * 255).rounded() / 255 }
        let values = bytes + rounded
        let tensor = Tensor(shape: [values.count, 1, 1, 1], scalars: values)
        let store = PixelStore(tensor, scale: 255)
        #expect(store.isBytes)
        #expect(Self.bits(store.tensor) == Self.bits(tensor))
        let preprocessed = Preprocessing.preprocessed(pixels: (0..<100).map { Float($0 * $0 % 97) }, width: 10, height: 10, size: 7)
        #expect(PixelStore(Tensor(shape: [1, 1, 7, 7], scalars: preprocessed), scale: 255).isBytes)
        let masks = PixelStore(Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 1, 0]), scale: 1)
        #expect(masks.isBytes && masks.bytes == [0, 1, 1, 0])
    }

    @Test func valuesWithoutAnExactByteStayFloat() {
        // Noise, the other zero, out of range, and a value one ulp off a multiple of 1/255.
        for odd: Float in [0.123_456, -0.0, 1.5, -1 / 255, (Float(7) / 255).nextUp] {
            let tensor = Tensor(shape: [2, 1, 1, 1], scalars: [Float(3) / 255, odd])
            let store = PixelStore(tensor, scale: 255)
            #expect(!store.isBytes, "\(odd)")
            #expect(Self.bits(store.tensor) == Self.bits(tensor))
        }
        #expect(!PixelStore(Tensor(shape: [1, 1, 1, 1], scalars: [0.5]), scale: 1).isBytes)
    }

    @Test func gatheringKeepsTheStorageAndTheValues() {
        var generator = SeededGenerator(seed: 3)
        let exact = Tensor(shape: [5, 1, 3, 3], scalars: (0..<45).map { _ in Float(generator.nextInt(below: 256)) / 255 })
        let noisy = Tensor(randomUniform: [5, 1, 3, 3], generator: &generator)
        for tensor in [exact, noisy] {
            let store = PixelStore(tensor, scale: 255)
            let picked = store.gathered(items: [4, 0, 4, 2])
            #expect(picked.isBytes == store.isBytes)
            #expect(picked.shape == [4, 1, 3, 3])
            #expect(Self.bits(picked.tensor) == Self.bits(tensor.gathered(items: [4, 0, 4, 2])))
        }
    }

    /// A dataset read back from the cache holds the bytes it stored, and its Float images are the decoded ones.
    @Test func cachedDatasetEqualsTheDecodedOneAsBytesAndAsFloat() throws {
        let folder = TestData.temporaryDirectory(), cache = TestData.temporaryDirectory("cache")
        defer { TestData.remove(folder); TestData.remove(cache) }
        try ManifestTests.makeFolder(folder)
        let options = LoadOptions(verbose: false)
        let decoded = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: options)
        _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options)
        let cached = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: cache, options: options)
        #expect(decoded.pixels.isBytes && cached.pixels.isBytes)
        #expect(cached.pixels.bytes == decoded.pixels.bytes)
        #expect(Self.bits(cached.images) == Self.bits(decoded.images))
        #expect(cached.masks.map(Self.bits) == decoded.masks.map(Self.bits))
        // A subset gathers bytes, and widens to the same Float values as the whole set's rows.
        let subset = cached.subset([2, 0])
        #expect(subset.pixels.isBytes)
        #expect(Self.bits(subset.images) == Self.bits(decoded.images.gathered(items: [2, 0])))
    }
}
