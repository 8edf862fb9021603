import Testing
import RobustTraining

@Suite struct RobustTrainingSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
