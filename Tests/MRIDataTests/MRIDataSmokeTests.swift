import Testing
import MRIData

@Suite struct MRIDataSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
