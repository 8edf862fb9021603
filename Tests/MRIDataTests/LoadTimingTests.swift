import Foundation
import Testing
import MRIData
import Tensor

/// Measures cold and cached loads of the whole real figshare-jpg copy. Opt-in (slow, needs the data):
/// ROBUST_MRI_MEASURE=1 swift test -c release -Xswiftc -enable-testing --filter LoadTimingTests
@Suite struct LoadTimingTests {
    static let enabled = ProcessInfo.processInfo.environment["ROBUST_MRI_MEASURE"] == "1" && TestData.has("figshare-jpg/manifest.csv")

    @Test(.enabled(if: enabled, "opt-in: set ROBUST_MRI_MEASURE=1 (and have the real data)"))
    func coldAndCachedLoadOfFigshareJPG() throws {
        let cache = TestData.temporaryDirectory("cache-timing")
        defer { TestData.remove(cache) }
        for size in [128, 256] {
            var times: [Double] = []
            var dataset: MRIDataset?
            for _ in 0..<2 {
                let start = Date()
                dataset = try DatasetLoader.load(path: TestData.path("figshare-jpg"), imageSize: size, cacheDirectory: cache,
                                                 options: LoadOptions(threads: 2, verbose: false))
                times.append(Date().timeIntervalSince(start))
            }
            let loaded = try #require(dataset)
            #expect(loaded.count == 2451)
            print(String(format: "figshare-jpg %d px: cold %.2f s, cached %.2f s", size, times[0], times[1]))
            if size == 128 {
                let folds = try #require(loaded.folds)
                for fold in loaded.availableFolds {
                    let indices = loaded.labels.indices.filter { folds[$0] == fold }
                    print("  fold \(fold): \(indices.count) images, \(MRIDataset.describeCounts(loaded.classCounts(at: indices)))")
                }
                print("  all: \(MRIDataset.describeCounts(loaded.classCounts)); masks: \(loaded.masks != nil)")
            }
        }
    }
}
