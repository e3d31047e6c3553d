import Testing

@testable import TallyCLI

/// `tally bench`'s check of the spill step's results against the generated orders.
@Suite struct SpillCheckTests {
    static let cents: [Int32] = [1250, 99, 40_000]

    static func record(_ key: String, orders: Int = 1, revenue: Double) -> String {
        #"{"query":"spill_agg","key":{"customer_id":"\#(key)"},"window":{"start":1764000000000,"end":1764003600000},"final":true,"values":{"orders":\#(orders),"revenue":\#(revenue)}}"#
    }

    static func check(_ lines: [String]) -> String? {
        var check = SpillCheck(cents: cents)
        for line in lines {
            Array(line.utf8).withUnsafeBytes { check.add($0) }
        }
        return check.difference()
    }

    @Test func acceptsOneRecordPerCustomerInAnyOrderBesideTheSummary() {
        let lines = [Self.record("s2", revenue: 400), Self.record("s0", revenue: 12.5),
                     "spill_agg: read 3: counted 3; emitted 3 results", Self.record("s1", revenue: 0.99)]
        #expect(Self.check(lines) == nil)
    }

    @Test func rejectsAMissingDuplicatedWrongOrUnknownRecord() {
        #expect(Self.check([Self.record("s0", revenue: 12.5), Self.record("s1", revenue: 0.99)]) == "2 records, expected 3")
        #expect(Self.check([Self.record("s0", revenue: 12.5), Self.record("s0", revenue: 12.5)]) == "customer s0 twice")
        #expect(Self.check([Self.record("s0", revenue: 12.51)])?.hasPrefix("record of s0 differs") == true)
        #expect(Self.check([Self.record("s0", orders: 2, revenue: 12.5)])?.hasPrefix("record of s0 differs") == true)
        #expect(Self.check([Self.record("s3", revenue: 1)])?.hasPrefix("unexpected record") == true)
        #expect(Self.check([Self.record("x0", revenue: 12.5)])?.hasPrefix("unexpected record") == true)
    }
}
