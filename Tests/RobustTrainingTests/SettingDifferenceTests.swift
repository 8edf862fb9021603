import Testing
@testable import RobustTraining

/// The list of differing settings that refusals to resume or extend show.
@Suite struct SettingDifferenceTests {
    @Test func namesEachDifferingLeafWithBothValues() {
        var stored = TrainingConfiguration()
        var given = stored
        given.epochs = stored.epochs + 1
        given.isr.alpha = 3
        given.influence.lissaScale = .auto
        let differences = SettingDifference.between(stored, given, prefix: "training")
        #expect(differences.map(\.path) == ["training.epochs", "training.influence.lissaScale", "training.isr.alpha"])
        #expect(differences[0].description == "training.epochs: stored \(stored.epochs), now \(stored.epochs + 1)")
        #expect(differences[1].stored == "50" && differences[1].given == "\"auto\"")
        stored.threads = given.threads
        #expect(SettingDifference.between(stored, stored).isEmpty)
    }

    @Test func anEnumsCaseChangeIsOneDifference() {
        enum Kind: Codable { case gaussian(sigma: Float), rician(scale: Float) }
        let differences = SettingDifference.between(Kind.gaussian(sigma: 32), Kind.rician(scale: 16))
        #expect(differences.count == 1)
        #expect(differences.first?.description == #"(value): stored {"gaussian":{"sigma":32}}, now {"rician":{"scale":16}}"#)
    }
}
