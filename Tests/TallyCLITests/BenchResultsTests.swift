import Testing

@testable import TallyCLI

/// `tally bench`'s check of live results against the offline run: what it accepts and rejects.
@Suite struct BenchResultsTests {
    static func record(_ key: String, start: Int, sum: Double, count: Int = 2) -> [UInt8] {
        Array(#"{"query":"q","key":{"customer_id":"\#(key)"},"window":{"start":\#(start),"end":\#(start + 60000)},"final":true,"values":{"count":\#(count),"sum":\#(sum),"avg":null}}"#.utf8)
    }

    static let offline = try! BenchResults(values: [
        record("a", start: 0, sum: 0.1 + 0.2), Self.record("b", start: 0, sum: 5), Self.record("a", start: 60000, sum: 7),
    ])

    @Test func acceptsTheClosedWindowsWithSumsAddedInAnotherOrder() throws {
        let live = try BenchResults(values: [Self.record("b", start: 0, sum: 5), Self.record("a", start: 0, sum: 0.3)])
        #expect(live.difference(from: Self.offline, watermark: 61000, grace: 1000) == nil)
    }

    @Test func rejectsAMissingClosedWindow() throws {
        let live = try BenchResults(values: [Self.record("b", start: 0, sum: 5)])
        #expect(live.difference(from: Self.offline, watermark: 61000, grace: 1000) == "1 records, expected 2 closed windows")
        #expect(live.difference(from: Self.offline, watermark: 121000, grace: 1000) == "1 records, expected 3 closed windows")
    }

    @Test func rejectsAWrongValueOrAnUnknownWindow() throws {
        let wrongSum = try BenchResults(values: [Self.record("b", start: 0, sum: 5.01), Self.record("a", start: 0, sum: 0.3)])
        #expect(wrongSum.difference(from: Self.offline, watermark: 61000, grace: 1000)?.hasSuffix("differs") == true)
        let wrongCount = try BenchResults(values: [Self.record("b", start: 0, sum: 5, count: 3), Self.record("a", start: 0, sum: 0.3)])
        #expect(wrongCount.difference(from: Self.offline, watermark: 61000, grace: 1000)?.hasSuffix("differs") == true)
        let unknown = try BenchResults(values: [Self.record("c", start: 0, sum: 5), Self.record("a", start: 0, sum: 0.3)])
        #expect(unknown.difference(from: Self.offline, watermark: 61000, grace: 1000)?.hasPrefix("unexpected record") == true)
    }
}
