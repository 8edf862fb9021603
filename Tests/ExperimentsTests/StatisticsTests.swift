import Foundation
import Testing
import Experiments

@Suite struct StatisticsTests {
    @Test func incompleteBetaMatchesClosedForms() {
        for x in [0.1, 0.37, 0.5, 0.9] {
            // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
            #expect(abs(Statistics.regularizedIncompleteBeta(x: x, a: 1, b: 1) - x) < 1e-12)
            #expect(abs(Statistics.regularizedIncompleteBeta(x: x, a: 3, b: 1) - pow(x, 3)) < 1e-12)
            #expect(abs(Statistics.regularizedIncompleteBeta(x: x, a: 1, b: 2.5) - (1 - pow(1 - x, 2.5))) < 1e-12)
        }
    }

    @Test func studentTPValuesMatchTables() {
        // Two-sided critical values: t_{0.975, 4} = 2.776445, t_{0.995, 10} = 3.169273.
        #expect(abs(Statistics.studentTTwoSidedP(t: 2.776445, degreesOfFreedom: 4) - 0.05) < 1e-5)
        #expect(abs(Statistics.studentTTwoSidedP(t: -3.169273, degreesOfFreedom: 10) - 0.01) < 1e-5)
        // df = 1 is the Cauchy distribution: P(|T| >= 1) = 0.5.
        #expect(abs(Statistics.studentTTwoSidedP(t: 1, degreesOfFreedom: 1) - 0.5) < 1e-10)
    }

    @Test func pairedTTestOnAKnownSample() {
        let a = [88.0, 89.5, 90.1, 87.2, 91.0]
        let b = [87.0, 88.0, 89.9, 86.0, 89.5]
        // Differences 1.0, 1.5, 0.2, 1.2, 1.5: mean 1.08, sd 0.5357, t = 4.508 on 4 df.
        let result = Statistics.pairedTTest(a, b)!
        #expect(abs(result.t - 4.5081) < 1e-3)
        #expect(result.degreesOfFreedom == 4)
        #expect(result.p > 0.01 && result.p < 0.02)
    }

    @Test func signFlipTestIsExact() {
        // All five differences positive: only the identity and the all-flipped pattern reach the observed
        // |sum|, so p = 2/32.
        #expect(Statistics.signFlipTest([2, 3, 4, 5, 6], [1, 1, 1, 1, 1]) == 2.0 / 32.0)
        #expect(Statistics.signFlipTest([1, 1], [1, 1]) == 1.0)
    }

    @Test func meanAndStandardDeviation() {
        #expect(Statistics.mean([1, 2, 3, 4]) == 2.5)
        #expect(abs(Statistics.standardDeviation([2, 4, 4, 4, 5, 5, 7, 9]) - 2.13809) < 1e-5)
    }
}

@Suite struct RunStoreTests {
    struct Record: Codable, Equatable { var method: String; var accuracy: Double }

    @Test func savesLoadsAndListsRecordsAtomically() throws {
        let directory = NSTemporaryDirectory() + "runstore-\(UUID().uuidString)/runs"
        let store = RunStore(directory: directory)
        #expect(store.ids().isEmpty)
        #expect(try store.load(Record.self, id: "a") == nil)
        try store.save(Record(method: "isp", accuracy: 0.9), id: "isp-gaussian-seed1")
        try store.save(Record(method: "naive", accuracy: 0.8), id: "naive-gaussian-seed1")
        #expect(store.ids() == ["isp-gaussian-seed1", "naive-gaussian-seed1"])
        #expect(try store.load(Record.self, id: "isp-gaussian-seed1") == Record(method: "isp", accuracy: 0.9))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test func aCorruptRecordSaysHowToRecover() throws {
        let directory = NSTemporaryDirectory() + "runstore-\(UUID().uuidString)"
        let store = RunStore(directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "{ truncated".write(toFile: store.path(for: "x"), atomically: true, encoding: .utf8)
        do {
            _ = try store.load(Record.self, id: "x")
            Issue.record("expected an error for a corrupt record")
        } catch let error as RunStore.ReadError {
            #expect(error.description.contains("delete it"))
        }
    }
}
