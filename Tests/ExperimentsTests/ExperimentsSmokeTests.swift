import Testing
import Experiments

@Suite struct ExperimentsSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
