import Testing
@testable import Experiments
import MRIData

/// A split whose test or validation set misses a class (a newcomer's 30-phantom run scored 0.00 % on a test set of
/// pituitary images only, without a word) is named in the data summary every command prints, with what to change.
@Suite struct SplitWarningsTests {
    static func data(count: Int) throws -> ExperimentData {
        try ExperimentData.load(DataSettings(phantom: PhantomConfiguration(count: count, patients: max(1, count / 5), imageSize: 16), imageSize: 16, cacheDirectory: nil),
                                threads: 1, verbose: false)
    }

    @Test func aSetMissingAClassIsNamedWithTheRemedy() throws {
        let tiny = try Self.data(count: 30)
        let warnings = tiny.splitWarnings
        #expect(!warnings.isEmpty, "\(tiny.summary)")
        #expect(warnings.allSatisfy { $0.contains("--phantom-count") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("the test set") && $0.contains("has no") }, "\(warnings)")
        #expect(tiny.summary.contains("warning: the test set"), "\(tiny.summary)")
    }

    @Test func theDefaultPhantomsGiveNoWarning() throws {
        let sound = try Self.data(count: PhantomConfiguration().count)
        #expect(sound.splitWarnings.isEmpty, "\(sound.splitWarnings)")
        #expect(!sound.summary.contains("warning"))
    }
}
