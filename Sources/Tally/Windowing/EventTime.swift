/// Event-time parsing: epoch milliseconds or seconds (fractions rounded to the millisecond) and
/// ISO 8601 with `Z` or an offset. All results are epoch milliseconds.
public enum EventTime {
    /// Times beyond ±8.64e15 ms (±275,760 years, JavaScript's Date range) are rejected.
    public static let limit: Double = 8.64e15

    /// An epoch-milliseconds number, rounded to the nearest millisecond.
    @inline(__always) public static func fromEpochMilliseconds(_ v: Double) -> Int64? {
        let r = v.rounded()
        return abs(r) <= limit ? Int64(r) : nil
    }

    /// An epoch-seconds number, rounded to the nearest millisecond.
    @inline(__always) public static func fromEpochSeconds(_ v: Double) -> Int64? {
        fromEpochMilliseconds(v * 1000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM|±HH)`; `t`, `z` and a space
    /// separator are accepted too. Fractions beyond milliseconds are rounded.
    public static func parseISO8601(_ s: UnsafeRawBufferPointer) -> Int64? {
        let n = s.count
        var i = 0
        func digits(_ count: Int) -> Int64? {
            guard i + count <= n else { return nil }
            var v: Int64 = 0
            for k in 0..<count {
                let d = s[i + k] &- 0x30
                guard d < 10 else { return nil }
                v = v * 10 + Int64(d)
            }
            i += count
            return v
        }
        func take(_ c: UInt8) -> Bool {
            guard i < n, s[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), take(0x2D), let month = digits(2), take(0x2D), let day = digits(2),
            (1...12).contains(month), (1...daysInMonth(year, month)).contains(day),
            i < n, s[i] == 0x54 || s[i] == 0x74 || s[i] == 0x20
        else { return nil }
        i += 1
        guard let hour = digits(2), take(0x3A), let minute = digits(2), take(0x3A), let second = digits(2),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var nanos: Int64 = 0
        if take(0x2E) {
            var count = 0
            while i < n, case let d = s[i] &- 0x30, d < 10 {
                if count < 9 { nanos = nanos * 10 + Int64(d) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 9) { nanos *= 10 }
        }
        guard i < n else { return nil }
        var offsetMinutes: Int64 = 0
        if s[i] == 0x5A || s[i] == 0x7A {
            i += 1
        } else if s[i] == 0x2B || s[i] == 0x2D {
            let sign: Int64 = s[i] == 0x2D ? -1 : 1
            i += 1
            guard let oh = digits(2), oh < 24 else { return nil }
            var om: Int64 = 0
            if i < n {
                _ = take(0x3A)
                guard let m = digits(2), m < 60 else { return nil }
                om = m
            }
            offsetMinutes = sign * (oh * 60 + om)
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + (nanos + 500_000) / 1_000_000
    }
}
