import Testing
import Influence

@Suite struct InfluenceSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
