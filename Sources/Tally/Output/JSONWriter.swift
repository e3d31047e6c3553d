/// Appends JSON text to a byte buffer: escaped strings and numbers as Tally prints them. Each
/// piece is written through a `ByteCursor`; the `[UInt8]` forms reserve its bound first.
public enum JSONWriter {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)
    /// Most bytes a number takes (`-2.2250738585072014e-308` is 24).
    public static let maxNumberBytes = 32

    /// Most bytes `count` string bytes take once quoted and escaped.
    @inline(__always) public static func maxStringBytes(_ count: Int) -> Int { 6 * count + 2 }

    /// Appends `bytes` as a quoted JSON string.
    public static func appendString<C: Collection>(_ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        ByteCursor.append(to: &out, reserving: maxStringBytes(bytes.count)) { putString(bytes, &$0) }
    }

    /// Appends a string.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        appendString(s.utf8, to: &out)
    }

    /// Writes `bytes` as a quoted JSON string.
    @inline(__always) static func putString<C: Collection>(_ bytes: C, _ c: inout ByteCursor) where C.Element == UInt8 {
        c.put(0x22)
        for b in bytes { putEscaped(b, &c) }
        c.put(0x22)
    }

    @inline(__always) static func putEscaped(_ b: UInt8, _ c: inout ByteCursor) {
        switch b {
        case 0x22: c.put(0x5C); c.put(0x22)
        case 0x5C: c.put(0x5C); c.put(0x5C)
        case 0x0A: c.put(0x5C); c.put(0x6E)
        case 0x0D: c.put(0x5C); c.put(0x72)
        case 0x09: c.put(0x5C); c.put(0x74)
        case 0..<0x20:
            c.put(0x5C); c.put(0x75); c.put(0x30); c.put(0x30)
            c.put(hex[Int(b >> 4)]); c.put(hex[Int(b & 15)])
        default: c.put(b)
        }
    }

    /// Appends an integer.
    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: maxNumberBytes) { putInt(v, &$0) }
    }

    /// Writes an integer.
    @inline(__always) static func putInt(_ v: Int64, _ c: inout ByteCursor) {
        if v < 0 { c.put(0x2D) }
        putDigits(v.magnitude, minimum: 1, &c)
    }

    /// Writes `n` in decimal with at least `minimum` digits (leading zeros).
    @inline(__always) static func putDigits(_ n: UInt64, minimum: Int, _ c: inout ByteCursor) {
        let count = max(digitCount(n), minimum)
        c.next += count
        writeDigits(n, count: count, endingAt: c.next)
    }

    /// The number of decimal digits of `n` (1 for 0), found by comparisons rather than divisions.
    @inline(__always) static func digitCount(_ n: UInt64) -> Int {
        var count = 1
        var p: UInt64 = 10
        while count < 20 && n >= p {
            count += 1
            p &*= 10
        }
        return count
    }

    /// Writes the last `count` decimal digits of `n` (leading zeros as needed) so that they end
    /// just before `end`, two at a time.
    @inline(__always) static func writeDigits(_ n: UInt64, count: Int, endingAt end: UnsafeMutablePointer<UInt8>) {
        let pairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let table = pairs.utf8Start
        var p = end
        let first = end - count
        var m = n
        while p - first >= 2 {
            let r = Int(m % 100)
            m /= 100
            p -= 2
            p.initialize(to: table[2 * r])
            (p + 1).initialize(to: table[2 * r + 1])
        }
        if p > first { (p - 1).initialize(to: UInt8(truncatingIfNeeded: m % 10) + 0x30) }
    }

    /// Appends a double as Swift prints it (shortest text that reads back the same: `41.15`,
    /// `99.0`, `1e+16`); null when it is not finite.
    public static func appendDouble(_ v: Double, to out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: maxNumberBytes) { putDouble(v, &$0) }
    }

    /// Writes a double (see `appendDouble`).
    static func putDouble(_ v: Double, _ c: inout ByteCursor) {
        guard v.isFinite else { c.put(0x6E); c.put(0x75); c.put(0x6C); c.put(0x6C); return }
        // Below 2^30 (ulp ≤ 2^-23) at most one decimal with six fraction digits reads back as v,
        // and v * 10^6 lies within 0.25 of it, so rounding finds the only candidate: one check.
        if abs(v) < 1_073_741_824 {
            let whole = Int64((v * 1_000_000).rounded())
            if Double(whole) / 1_000_000 == v {
                var n = whole, digits = 6
                while digits > 0 && n % 10 == 0 { n /= 10; digits -= 1 }  // the same rational, shorter
                putDecimal(n, fractionDigits: digits, &c)
            } else {
                putShortest(v, &c)
            }
            return
        }
        // Larger values that are exactly n / 10^d for a small d (money, counts) print as n with
        // a decimal point, which reads back as the same double.
        var scale = 1.0
        for d in 0...6 {
            let scaled = v * scale
            // Whole when truncating changes nothing (no libm call); |scaled| < 2^53 makes it exact.
            if abs(scaled) < 9_007_199_254_740_992, case let whole = Int64(scaled), Double(whole) == scaled,
                Double(whole) / scale == v
            {
                var n = whole, digits = d
                while digits > 0 && n % 10 == 0 { n /= 10; digits -= 1 }
                putDecimal(n, fractionDigits: digits, &c)
                return
            }
            scale *= 10
        }
        putShortest(v, &c)
    }

    /// Writes Swift's own text for `v` (`description`: shortest round trip) straight from the
    /// standard library's digit buffer, without building a String.
    static func putShortest(_ v: Double, _ c: inout ByteCursor) {
        var out = CursorStream(cursor: c)
        v.write(to: &out)
        c = out.cursor
    }

    /// Where `Double.write(to:)` puts its digits: it hands them over as one ASCII buffer.
    private struct CursorStream: TextOutputStream {
        var cursor: ByteCursor
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { cursor.put(buffer) }
        mutating func write(_ string: String) { for b in string.utf8 { cursor.put(b) } }
    }

    /// Writes n / 10^d with exactly d fraction digits (at least one: `99.0`).
    static func putDecimal(_ n: Int64, fractionDigits d: Int, _ c: inout ByteCursor) {
        if n < 0 { c.put(0x2D) }
        var m = n.magnitude
        if d == 0 {
            putDigits(m, minimum: 1, &c)
            c.put(0x2E)
            c.put(0x30)
            return
        }
        // Backwards from the end: the d fraction digits, the point, then the whole part.
        let wholeDigits = max(digitCount(m) - d, 1)
        c.next += wholeDigits + 1 + d
        var p = c.next
        for _ in 0..<d {
            p -= 1
            p.initialize(to: UInt8(truncatingIfNeeded: m % 10) + 0x30)
            m /= 10
        }
        p -= 1
        p.initialize(to: 0x2E)
        writeDigits(m, count: wholeDigits, endingAt: p)
    }

    /// Appends a number that is whole when it can be (`7`, not `7.0`): for key values.
    public static func appendNumber(_ v: Double, to out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: maxNumberBytes) { putNumber(v, &$0) }
    }

    /// Writes a number that is whole when it can be.
    static func putNumber(_ v: Double, _ c: inout ByteCursor) {
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { putInt(Int64(v), &c) } else { putDouble(v, &c) }
    }
}
