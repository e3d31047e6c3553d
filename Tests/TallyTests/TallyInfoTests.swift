import Testing
@testable import Tally

@Test func versionIsSemantic() {
    #expect(TallyInfo.version.split(separator: ".").count == 3)
}
