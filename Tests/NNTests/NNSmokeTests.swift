import Testing
import NN

@Suite struct NNSmokeTests {
    @Test func moduleLinks() {
        #expect(Bool(true))
    }
}
