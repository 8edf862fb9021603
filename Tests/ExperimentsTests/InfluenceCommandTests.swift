import Foundation
import Testing
import MRIData
import NN
import RobustTraining
@testable import Experiments

/// A tiny phantom run (32 px, same3x3) saved to disk, as `train` leaves it.
func tinyPhantomRun(directory: String) throws -> (settings: RunSettings, data: ExperimentData) {
    let dataSettings = DataSettings(phantom: PhantomConfiguration(count: 80, patients: 20, imageSize: 32, seed: 3),
                                    imageSize: 32, cacheDirectory: nil)
    var training = TrainingConfiguration(method: .naive, model: .same3x3(imageSize: 32), epochs: 1, batchSize: 16,
                                         seed: 2, threads: 1)
    let data = try ExperimentData.load(dataSettings, threads: 1, verbose: false)
    _ = try SingleRun(settings: RunSettings(data: dataSettings, training: training), directory: directory)
        .execute(data: data, id: "tiny", resumption: .refuse)
    // The influence command builds its settings for ISP (epsilon, step, solver); the data and seed are the run's.
    training.method = .isp
    training.isp.switchEpoch = 0
    training.isp.influence.solver = .exact
    return (RunSettings(data: dataSettings, training: training), data)
}

@Suite struct InfluenceCommandTests {
    @Test func rankingWritesTheTableFiguresAndEnergyShares() throws {
        let directory = NSTemporaryDirectory() + "influence-\(UUID().uuidString)"
        let (settings, data) = try tinyPhantomRun(directory: "\(directory)/run")
        let out = "\(directory)/influence"
        let summary = try InfluenceRanking.run(
            InfluenceRanking.Settings(checkpoint: "\(directory)/run/model.safetensors", out: out, figure1Count: 2, sheetCount: 6),
            run: settings, data: data)
        let n = data.split.train.count
        #expect(summary.n == n)

        let lines = try String(contentsOfFile: "\(out)/influence.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "rank,index,source_id,class_index,class,i_up,kind")
        #expect(lines.count == n + 1)
        let scores = lines.dropFirst().map { Double($0.split(separator: ",")[5])! }
        #expect(scores == scores.sorted(by: >))
        #expect(Set(lines.dropFirst().map { Int($0.split(separator: ",")[1])! }) == Set(0..<n))
        let kinds = lines.dropFirst().map { $0.split(separator: ",")[6] }
        #expect(kinds.filter { $0 == "harmful" }.count == summary.harmfulCount)

        for file in ["most-harmful.png", "most-helpful.png", "summary.json"] + summary.figure1 {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file)")
        }
        #expect(summary.figure1.count == 2)
        // Phantoms have masks: an energy share for every image with a non-empty mask, each in [0, 1].
        #expect(!summary.perImage.isEmpty)
        #expect(summary.perImage.allSatisfy { (0...1).contains($0.energyInMask) && $0.maskShare > 0 && $0.maskShare < 1 })
        let mean = try #require(summary.meanEnergyInMask)
        #expect(abs(mean - summary.perImage.map(\.energyInMask).reduce(0, +) / Double(summary.perImage.count)) < 1e-12)
    }

    @Test func aModelForAnotherImageSizeIsRefused() throws {
        let directory = NSTemporaryDirectory() + "influence-\(UUID().uuidString)"
        let (settings, _) = try tinyPhantomRun(directory: "\(directory)/run")
        var other = settings
        other.data.imageSize = 48
        other.data.phantom.imageSize = 48
        let data = try ExperimentData.load(other.data, threads: 1, verbose: false)
        #expect(throws: InfluenceRanking.RankingError.self) {
            try InfluenceRanking.run(InfluenceRanking.Settings(checkpoint: "\(directory)/run/model.safetensors", out: "\(directory)/x"),
                                     run: other, data: data)
        }
    }

    @Test func theCheckAgreesWithLeaveOneOutOnTheSyntheticProblem() throws {
        var settings = InfluenceCheck.Settings()
        settings.imageCount = 160
        settings.epochs = 1
        settings.subsetCount = 80
        settings.points = 10
        settings.threads = 1
        let report = try InfluenceCheck.run(settings)
        #expect(report.synthetic.looPearson > 0.9)
        #expect(report.synthetic.cgRelativeError < 1e-6)
        #expect(report.n == report.cnn.n && (40...80).contains(report.n) && report.d == 64, "n \(report.n)")
        #expect(report.cgRelativeError < 1e-6)
        #expect(report.looPearson.isFinite && report.lissaCosine.isFinite)
        #expect(report.solvers.cgRelativeError < 1e-4)
        let json = String(decoding: try JSONCoding.compactEncoder.encode(report), as: UTF8.self)
        for key in ["loo_pearson", "loo_spearman", "cg_rel_error", "lissa_cosine", "lissa_rel_error", "\"n\"", "\"d\"", "damping"] {
            #expect(json.contains(key), "\(key)")
        }
    }
}
