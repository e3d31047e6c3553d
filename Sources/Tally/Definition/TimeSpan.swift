/// Parses durations written as an integer and a unit: `500ms`, `10s`, `5m`, `2h`, `1d`.
public enum TimeSpan {
    static let units: [(suffix: String, ms: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Milliseconds in `text`, or nil when it is not `<digits><unit>` or overflows.
    public static func milliseconds(_ text: String) -> Int64? {
        for (suffix, factor) in units.sorted(by: { $0.suffix.count > $1.suffix.count })
        where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let n = Int64(digits)
            else { return nil }
            let (v, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : v
        }
        return nil
    }

    /// The shortest exact way to write `ms` (`300000` → `5m`).
    public static func format(_ ms: Int64) -> String {
        if ms == 0 { return "0s" }
        for (suffix, factor) in units.reversed() where ms % factor == 0 {
            return "\(ms / factor)\(suffix)"
        }
        return "\(ms)ms"
    }
}
