/// Appends JSON text to a byte buffer: escaped strings and numbers as Tally prints them.
public enum JSONWriter {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a quoted JSON string.
    public static func appendString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        out.append(0x22)
        for c in bytes {
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(0x6E)
            case 0x0D: out.append(0x5C); out.append(0x72)
            case 0x09: out.append(0x5C); out.append(0x74)
            case 0..<0x20:
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(0x22)
    }

    /// Appends a string.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        appendString(s.utf8, to: &out)
    }

    /// Appends an integer.
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(0x30); return }
        var n = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 { d[count] = UInt8(n % 10) + 0x30; n /= 10; count += 1 }
            if v < 0 { out.append(0x2D) }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
        }
    }

    /// Appends a double as Swift prints it (shortest text that reads back the same: `41.15`,
    /// `99.0`, `1e+16`); null when it is not finite.
    public static func appendDouble(_ v: Double, to out: inout [UInt8]) {
        guard v.isFinite else { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]); return }
        // Fast path without a String: values that are exactly n / 10^d for a small d (money,
        // counts) print as n with a decimal point, which reads back as the same double.
        var scale = 1.0
        for d in 0...6 {
            let scaled = v * scale
            if scaled == scaled.rounded(), abs(scaled) < 9_007_199_254_740_992, Double(Int64(scaled)) / scale == v {
                var n = Int64(scaled), digits = d
                while digits > 0 && n % 10 == 0 { n /= 10; digits -= 1 }  // the same rational, shorter
                appendDecimal(n, fractionDigits: digits, to: &out)
                return
            }
            scale *= 10
        }
        out.append(contentsOf: v.description.utf8)
    }

    /// Appends n / 10^d with exactly d fraction digits (at least one: `99.0`).
    static func appendDecimal(_ n: Int64, fractionDigits d: Int, to out: inout [UInt8]) {
        if n < 0 { out.append(0x2D) }
        var m = n.magnitude
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        repeat { digits.append(UInt8(m % 10) + 0x30); m /= 10 } while m > 0
        while digits.count <= d { digits.append(0x30) }
        for i in stride(from: digits.count - 1, through: d, by: -1) { out.append(digits[i]) }
        out.append(0x2E)
        if d == 0 { out.append(0x30); return }
        for i in stride(from: d - 1, through: 0, by: -1) { out.append(digits[i]) }
    }

    /// Appends a number that is whole when it can be (`7`, not `7.0`): for key values.
    public static func appendNumber(_ v: Double, to out: inout [UInt8]) {
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { appendInt(Int64(v), to: &out) } else {
            appendDouble(v, to: &out)
        }
    }
}
