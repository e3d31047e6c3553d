import Foundation
import Testing
@testable import Tally

/// Epoch milliseconds of a UTC civil time, computed by Foundation's Gregorian calendar (independent
/// of `EventTime.daysFromCivil`).
func utcMilliseconds(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0, ms: Int = 0) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
    return Int64(date.timeIntervalSince1970.rounded()) * 1000 + Int64(ms)
}

func parseISO(_ s: String) -> Int64? {
    Array(s.utf8).withUnsafeBytes { EventTime.parseISO8601($0) }
}

@Suite struct EventTimeTests {

    // MARK: epoch numbers

    @Test(arguments: [
        (0.0, Int64(0)), (1_700_000_000_123, 1_700_000_000_123), (1.4, 1), (1.6, 2), (-1.4, -1), (-1.6, -2),
        (1_700_000_000_123.49, 1_700_000_000_123), (1_700_000_000_123.51, 1_700_000_000_124), (-86_400_000, -86_400_000),
        (8.64e15, 8_640_000_000_000_000), (-8.64e15, -8_640_000_000_000_000),
    ])
    func epochMillisecondsRoundToTheNearestMillisecond(value: Double, expected: Int64) {
        #expect(EventTime.fromEpochMilliseconds(value) == expected)
    }

    @Test(arguments: [
        (0.0, Int64(0)), (1_700_000_000, 1_700_000_000_000), (1_700_000_000.123, 1_700_000_000_123),
        (1_700_000_000.1234, 1_700_000_000_123), (1_700_000_000.1236, 1_700_000_000_124), (1.5, 1500),
        (0.0004, 0), (0.0006, 1), (-1.5, -1500), (-0.0006, -1), (-14_182_940, -14_182_940_000), (8.64e12, 8_640_000_000_000_000),
    ])
    func epochSecondsBecomeMillisecondsRoundedToTheMillisecond(value: Double, expected: Int64) {
        #expect(EventTime.fromEpochSeconds(value) == expected)
    }

    @Test(arguments: [8.64e15 + 2, -8.64e15 - 2, 1e300, -1e300, .infinity, -.infinity])
    func epochMillisecondsBeyondTheDateRangeAreRejected(value: Double) {
        #expect(EventTime.fromEpochMilliseconds(value) == nil)
    }

    @Test func epochSecondsBeyondTheDateRangeAreRejected() {
        #expect(EventTime.fromEpochSeconds(8.64e12 + 1) == nil)
        #expect(EventTime.fromEpochSeconds(-8.64e12 - 1) == nil)
        #expect(EventTime.fromEpochSeconds(1e300) == nil)
    }

    // MARK: ISO 8601

    @Test func knownInstantsMatchHandComputedValues() {
        #expect(parseISO("1970-01-01T00:00:00Z") == 0)
        #expect(parseISO("2024-02-29T00:00:00Z") == 1_709_164_800_000)
        #expect(parseISO("2024-01-01T00:00:00Z") == 1_704_067_200_000)
        #expect(parseISO("2000-02-29T23:59:59Z") == 951_868_799_000)
        #expect(parseISO("1969-07-20T20:17:40Z") == -14_182_940_000)
        #expect(parseISO("1900-01-01T00:00:00Z") == -2_208_988_800_000)
        #expect(parseISO("0001-01-01T00:00:00Z") == -62_135_596_800_000)
    }

    @Test(arguments: [
        ("2024-02-29T12:34:56Z", utcMilliseconds(2024, 2, 29, 12, 34, 56)),
        ("2024-02-29T12:34:56z", utcMilliseconds(2024, 2, 29, 12, 34, 56)),
        ("2024-02-29t12:34:56Z", utcMilliseconds(2024, 2, 29, 12, 34, 56)),
        ("2024-02-29 12:34:56Z", utcMilliseconds(2024, 2, 29, 12, 34, 56)),
        ("2024-03-01T05:30:00+05:30", utcMilliseconds(2024, 3, 1)),
        ("2024-03-01T05:30:00+0530", utcMilliseconds(2024, 3, 1)),
        ("2023-12-31T16:00:00-0800", utcMilliseconds(2024, 1, 1)),
        ("2023-12-31T16:00:00-08:00", utcMilliseconds(2024, 1, 1)),
        ("2024-01-01T01:00:00+01", utcMilliseconds(2024, 1, 1)),
        ("2023-12-31T21:00:00-03", utcMilliseconds(2024, 1, 1)),
        ("2024-06-15T10:00:00+00:00", utcMilliseconds(2024, 6, 15, 10)),
        ("2024-06-15T10:00:00-00:00", utcMilliseconds(2024, 6, 15, 10)),
        ("2024-06-15T00:15:00+14:00", utcMilliseconds(2024, 6, 14, 10, 15)),
        ("2024-06-15T23:59:00-12:00", utcMilliseconds(2024, 6, 16, 11, 59)),
        ("2024-02-28T22:00:00-05:00", utcMilliseconds(2024, 2, 29, 3)),
    ])
    func isoTimesWithAZoneOrOffsetGiveTheRightInstant(text: String, expected: Int64) {
        #expect(parseISO(text) == expected)
    }

    @Test(arguments: [
        (".1", 100), (".12", 120), (".123", 123), (".1234", 123), (".12351", 124), (".12345", 123),
        (".123456", 123), (".1234567", 123), (".12345678", 123), (".123456789", 123), (".987654321", 988),
        (".0004", 0), (".00051", 1), (".000999999", 1), (".5", 500), (".999", 999), (".1234567891", 123),
    ] as [(String, Int64)])
    func fractionalSecondsOfAnyLengthRoundToTheMillisecond(fraction: String, ms: Int64) {
        let base = utcMilliseconds(2024, 5, 6, 7, 8, 9)
        #expect(parseISO("2024-05-06T07:08:09\(fraction)Z") == base + ms)
        #expect(parseISO("2024-05-06T09:08:09\(fraction)+02:00") == base + ms)
    }

    @Test func fractionRoundingCarriesIntoTheNextSecondMinuteAndYear() {
        #expect(parseISO("2024-05-06T07:08:09.99951Z") == utcMilliseconds(2024, 5, 6, 7, 8, 10))
        #expect(parseISO("2023-12-31T23:59:59.999999999Z") == utcMilliseconds(2024, 1, 1))
    }

    @Test(arguments: [
        ("1969-12-31T23:59:59Z", Int64(-1000)),
        ("1969-12-31T23:59:59.5Z", -500),
        ("1969-12-31T23:59:59.001Z", -999),
        ("1969-12-31T23:59:59.9996Z", 0),
        ("1970-01-01T00:59:59+01:00", -1000),
        ("1960-02-29T06:00:00Z", utcMilliseconds(1960, 2, 29, 6)),
        ("1600-03-01T00:00:00Z", utcMilliseconds(1600, 3, 1)),
        ("1899-12-31T23:59:59.250Z", utcMilliseconds(1899, 12, 31, 23, 59, 59, ms: 250)),
    ])
    func datesBefore1970AreNegative(text: String, expected: Int64) {
        #expect(parseISO(text) == expected)
    }

    @Test(arguments: ["2024-02-29", "2000-02-29", "1600-02-29", "1996-02-29", "2023-02-28", "2023-12-31", "2023-04-30"])
    func existingDaysAreAccepted(date: String) {
        #expect(parseISO("\(date)T00:00:00Z") != nil)
    }

    @Test(arguments: ["2023-02-29", "1900-02-29", "2100-02-29", "2024-02-30", "2023-04-31", "2023-06-31", "2023-09-31", "2023-11-31"])
    func daysThatDoNotExistAreRejected(date: String) {
        #expect(parseISO("\(date)T00:00:00Z") == nil)
    }

    @Test(arguments: [
        "", "garbage", "2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00:00.123",
        "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-32T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:61Z",
        "2024-1-01T00:00:00Z", "24-01-01T00:00:00Z", "2024/01/01T00:00:00Z", "2024-01-01X00:00:00Z",
        "2024-01-01T00:00:00Zx", "2024-01-01T00:00:00Z ", " 2024-01-01T00:00:00Z", "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00+5:30", "2024-01-01T00:00:00+05:3", "2024-01-01T00:00:00+05:", "2024-01-01T00:00:00+",
        "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+05:60", "2024-01-01T00:00:00+05:30:00",
        "2024-01-01T00:00:00UTC", "2024-01-01T00:00:00 Z", "2024-01-01T0a:00:00Z", "2024-01-01T00:00:00,5Z",
        "-2024-01-01T00:00:00Z", "2024-01-01T00:00:00+0530Z",
    ])
    func malformedIsoTimesAreRejected(text: String) {
        #expect(parseISO(text) == nil, "\(text)")
    }

    @Test func isoParsingAgreesWithFoundationOnRandomInstants() {
        // Foundation's formatter as an independent oracle, at second precision with several offsets.
        let formatter = ISO8601DateFormatter()
        var state: UInt64 = 42
        for _ in 0..<500 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Int64(bitPattern: state >> 1) % 8_000_000_000 - 2_000_000_000  // ~1906…2223
            let offsetMinutes = [0, 60, -480, 330, 345, -210, 840, -720][Int(state % 8)]
            formatter.timeZone = TimeZone(secondsFromGMT: offsetMinutes * 60)!
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(parseISO(text) == seconds * 1000, "\(text)")
        }
    }
}
