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

    /// The influence settings may differ on resume until the step at the start of epoch T + 1 has run; nothing else may.
    @Test func influenceSettingsMayDifferOnlyBeforeTheInfluenceStep() {
        var stored = TrainingConfiguration(method: .isr, epochs: 5)
        stored.isr.switchEpoch = 3
        var given = stored
        given.influence.lissaScale = .auto
        given.influence.damping = 1
        given.learningRate = 0.001
        let differences = SettingDifference.between(stored, given, prefix: "training")
        #expect(ResumeRule.influenceStepHasRun(stored, completedEpochs: 3) == false)
        #expect(ResumeRule.influenceStepHasRun(stored, completedEpochs: 4) == true)
        #expect(ResumeRule.refused(differences, trainingPrefix: "training", influenceStepHasRun: false).map(\.path) == ["training.learningRate"])
        #expect(ResumeRule.refused(differences, trainingPrefix: "training", influenceStepHasRun: true).count == 3)
        stored.method = .naive
        #expect(ResumeRule.influenceStepHasRun(stored, completedEpochs: 5) == false, "naive training never computes influence")
    }
}
