import Foundation
import Testing
import Influence
import MRIData
import NN
import RobustTraining
@testable import Experiments

/// Settings files written before each setting had one home (issue 16): the image size in the data, the phantom
/// and the CNN settings; ISR's and ISP's influence settings copied into both; the LiSSA scale a number with 0 for auto.
/// The fixtures were written by the tool before the change.
@Suite struct SettingsCompatibilityTests {
    /// Fixtures/plan-before-one-home.json: `robust-mri compare --preset quick --methods naive isr isp --noises gaussian
    /// --seeds 1 --threads 2`. Fixtures/config-before-one-home.json: `robust-mri train --method isp --image-size 32
    /// --phantom-count 150 --epochs 3 --switch-epoch 1 --lissa-scale auto --epsilon 0.05 --noise rician --noise-level 20
    /// --test-noise-fraction 0 1 --recipe paper`.
    static func fixture<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(type, from: Data(contentsOf: url))
    }

    static func decoded<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    @Test func anEarlierPlanIsTheSameGridAsTheSameCommandToday() throws {
        let earlier = try Self.fixture(CompareConfiguration.self, "plan-before-one-home")
        var today = ComparePreset.quick.configuration
        today.methods = [.naive, .isr, .isp]
        today.noises = [CompareConfiguration.paperNoises[0]]
        today.seeds = [1]
        today.base.data.cacheDirectory = earlier.base.data.cacheDirectory   // the machine's home folder
        // The preset's AT radius changed after the fixture was written (session 7: 8/255 -> 4/255, step 4/255 -> 2/255);
        // the fixture's grid has no AT run, but each run's settings carry the AT values, so today's take the earlier ones.
        #expect(earlier.base.training.adversarial.epsilon == Float(8) / 255 && earlier.base.training.adversarial.alpha == Float(4) / 255)
        #expect(today.base.training.adversarial.epsilon == Float(4) / 255 && today.base.training.adversarial.alpha == Float(2) / 255)
        today.base.training.adversarial = earlier.base.training.adversarial
        // Session 9 doubled the preset's phantoms and shortened its schedule (1,200 slices of 240 patients for 12 epochs, T = 9
        // -> 2,400 of 480 for 8, T = 6) so that the clean test after Rician training repeats over seeds: the earlier grid kept its values.
        #expect(earlier.base.data.phantom.count == 1_200 && earlier.base.training.epochs == 12 && earlier.base.training.isr.switchEpoch == 9)
        #expect(today.base.data.phantom.count == 2_400 && today.base.training.epochs == 8 && today.base.training.isr.switchEpoch == 6)
        #expect(earlier.base.data.phantom.patients == 240 && today.base.data.phantom.patients == 480)
        today.base.data.phantom.count = earlier.base.data.phantom.count
        today.base.data.phantom.patients = earlier.base.data.phantom.patients
        today.base.training.epochs = earlier.base.training.epochs
        today.base.training.isr.switchEpoch = earlier.base.training.isr.switchEpoch
        today.base.training.isp.switchEpoch = earlier.base.training.isp.switchEpoch
        #expect(GridRunner.sameRuns(earlier, today))
        #expect(earlier == today)
        #expect(earlier.preset == .quick)
    }

    @Test func anEarlierConfigReadsItsInfluenceCopyAndAutoScale() throws {
        let earlier = try Self.fixture(RunSettings.self, "config-before-one-home")
        #expect(earlier.training.influence.lissaScale == .auto)
        #expect(earlier.training.isp.influence == earlier.training.influence)
        #expect(earlier.training.isr.influence == earlier.training.influence)
        #expect(earlier.data.imageSize == 32 && earlier.data.phantom.imageSize == 32 && earlier.training.model.imageSize == 32)
        #expect(earlier.data.noise == .ricianAuthors(scale: 20))
        // Written again: one influence value, outside ISR and ISP, and the scale as "auto".
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(earlier)) as? [String: Any])
        let training = try #require(object["training"] as? [String: Any])
        let influence = try #require(training["influence"] as? [String: Any])
        #expect(influence["lissaScale"] as? String == "auto")
        #expect((training["isr"] as? [String: Any])?["influence"] == nil)
        #expect((training["isp"] as? [String: Any])?["influence"] == nil)
        #expect(try Self.decoded(RunSettings.self, String(decoding: JSONEncoder().encode(earlier), as: UTF8.self)) == earlier)
    }

    @Test func theLiSSAScaleReadsNumbersAndAuto() throws {
        func scale(_ text: String) throws -> LiSSAConfiguration.Scale { try Self.decoded(LiSSAConfiguration.Scale.self, text) }
        #expect(try scale("50") == .fixed(50))
        #expect(try scale("0") == .auto)
        #expect(try scale("\"auto\"") == .auto)
        #expect(throws: DecodingError.self) { try scale("\"fifty\"") }
        for value in [LiSSAConfiguration.Scale.fixed(12.5), .auto] {
            #expect(try scale(String(decoding: JSONEncoder().encode(value), as: UTF8.self)) == value)
        }
    }

    @Test func isrAndIspShareOneInfluenceValue() {
        var training = TrainingConfiguration(method: .isr)
        training.isr.influence.damping = 1.5
        #expect(training.influence.damping == 1.5 && training.isp.influence.damping == 1.5)
        training.influence.solver = .cg
        #expect(training.isr.influence.solver == .cg && training.isp.influence.solver == .cg)
    }

    @Test func theImageSizeIsTheData() {
        var settings = RunSettings(data: DataSettings(imageSize: 64), training: TrainingConfiguration(model: .same3x3(imageSize: 99)))
        #expect(settings.training.model.imageSize == 64 && settings.data.phantom.imageSize == 64)
        settings.data.imageSize = 48
        #expect(settings.training.model.imageSize == 48 && settings.data.phantom.imageSize == 48)
        settings.data.phantom.imageSize = 200
        settings.training.model.imageSize = 200
        #expect(settings.training.model.imageSize == 48 && settings.data.phantom.imageSize == 48)
    }

    @Test func theVariantRulePicksTheAuthorsNetworkWhereItFits() {
        #expect(ModelVariant.auto.configuration(imageSize: 256) == .authors(imageSize: 256))
        #expect(ModelVariant.auto.configuration(imageSize: 128) == .same3x3(imageSize: 128))
        #expect(ModelVariant.auto.configuration(imageSize: 128, channels: [8, 8]).kernelSize == 5)
    }

    @Test func noiseTypesByName() {
        #expect(NoiseType(named: "Gaussian") == .gaussian && NoiseType(named: "clean") == NoiseType.none)
        #expect(NoiseType(named: "rician-authors") == .rician && NoiseType(named: "speckle") == nil)
        for type in NoiseType.allCases { #expect(type.model(level: 7).type == type) }
        #expect(NoiseType.rician.model() == .ricianAuthors() && NoiseType.gaussian.model(level: 20).level == 20)
    }
}
