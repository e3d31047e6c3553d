/// Low-level JSON reading over a byte buffer: whitespace, strings, numbers, literals and skipping.
///
/// It accepts what Foundation's `JSONSerialization` accepts (checked by a differential test):
/// RFC 8259 plus a leading UTF-8 byte-order mark and one trailing comma in arrays and objects
/// (`[1,]`), nesting up to 512 levels, numbers whose value is a finite `Double`, strings that are
/// valid UTF-8 with paired `\u` surrogates. Two deliberate differences, where Foundation is
/// lenient by accident: an out-of-range number is rejected even when a later duplicate key
/// replaces it (`{"a":1e400,"a":1}`), and a U+FEFF inside a string is kept, as RFC 8259 asks.
/// The buffer must outlive the reader.
public struct JSONReader {
    /// The deepest nesting of arrays and objects accepted, as in Foundation.
    public static let maxDepth = 512

    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    /// Current byte offset.
    public var pos: Int

    /// A reader over `bytes`, positioned at its start.
    public init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
            ?? UnsafePointer(bitPattern: 1)!
        end = bytes.count
        pos = 0
    }

    @inline(__always) func fail(_ r: JSONFailure.Reason) -> JSONFailure { JSONFailure(r, at: pos) }

    /// Skips a UTF-8 byte-order mark at the very start, as Foundation does.
    public mutating func skipByteOrderMark() {
        if end - pos >= 3 && base[pos] == 0xEF && base[pos + 1] == 0xBB && base[pos + 2] == 0xBF {
            pos += 3
        }
    }

    /// Skips JSON whitespace (space, tab, LF, CR).
    @inline(__always) public mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    /// The byte at the current position after whitespace, or throws at end of input.
    @inline(__always) public mutating func peek() throws(JSONFailure) -> UInt8 {
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd) }
        return base[pos]
    }

    /// Consumes `byte` (after whitespace) or throws.
    @inline(__always) public mutating func expect(_ byte: UInt8) throws(JSONFailure) {
        guard try peek() == byte else { throw fail(.unexpectedByte) }
        pos += 1
    }

    /// True when only whitespace is left.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return pos == end
    }

    // MARK: literals

    /// Reads `true`, `false` or `null` at the current position; returns the byte it started with.
    public mutating func readLiteral() throws(JSONFailure) -> UInt8 {
        let c = base[pos]
        let word: StaticString = c == UInt8(ascii: "t") ? "true" : c == UInt8(ascii: "f") ? "false" : "null"
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for i in 0..<n {
            guard pos + i < end else { pos += i; throw fail(.unexpectedEnd) }
            guard base[pos + i] == w[i] else { pos += i; throw fail(.unexpectedByte) }
        }
        pos += n
        return c
    }

    // MARK: strings

    /// A string found in the buffer: the bytes between its quotes, and whether they hold escapes.
    public struct StringSpan {
        /// Offset of the first byte after the opening quote.
        public var start: Int
        /// Offset of the closing quote.
        public var end: Int
        /// Whether any backslash escape occurs (then the raw bytes differ from the value).
        public var hasEscapes: Bool
    }

    /// Reads a string starting at the opening quote, validating UTF-8 and escapes.
    @inline(__always) public mutating func readString() throws(JSONFailure) -> StringSpan {
        pos += 1  // opening quote
        let start = pos
        var escapes = false
        while true {
            // Eight plain ASCII bytes at a time: no quote, backslash, control byte or non-ASCII.
            // The lowest flagged byte is exact (a borrow can only flag bytes after a real one),
            // so the scan jumps straight to the first byte that needs a look.
            var p = pos
            while p &+ 8 <= end {
                let w = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
                let q = w ^ (0x22 &* ones), b = w ^ (0x5C &* ones)
                let special = (((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- 0x20 &* ones) & ~w) | w) & highs
                if special != 0 {
                    p &+= special.trailingZeroBitCount >> 3
                    break
                }
                p &+= 8
            }
            pos = p
            guard pos < end else { throw fail(.unexpectedEnd) }
            let c = base[pos]
            if c == 0x22 {
                let span = StringSpan(start: start, end: pos, hasEscapes: escapes)
                pos += 1
                return span
            } else if c == 0x5C {
                escapes = true
                try readEscape()
            } else if c < 0x20 {
                throw fail(.controlCharacter)
            } else if c < 0x80 {
                pos += 1
            } else {
                try readMultiByte(c)
            }
        }
    }

    @inline(__always) func isContinuation(_ i: Int) -> Bool {
        i < end && base[i] & 0xC0 == 0x80
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, surrogates or > U+10FFFF).
    mutating func readMultiByte(_ c: UInt8) throws(JSONFailure) {
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        let n: Int
        switch c {
        case 0xC2...0xDF: n = 1
        case 0xE0: n = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: n = 2
        case 0xED: n = 2; hi = 0x9F
        case 0xF0: n = 3; lo = 0x90
        case 0xF1...0xF3: n = 3
        case 0xF4: n = 3; hi = 0x8F
        default: throw fail(.invalidUTF8)
        }
        guard pos + 1 < end, base[pos + 1] >= lo, base[pos + 1] <= hi else { throw fail(.invalidUTF8) }
        for i in 2..<(n + 1) where !isContinuation(pos + i) { throw fail(.invalidUTF8) }
        pos += n + 1
    }

    mutating func readEscape() throws(JSONFailure) {
        pos += 1
        guard pos < end else { throw fail(.unexpectedEnd) }
        switch base[pos] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: pos += 1
        case 0x75:
            pos += 1
            let unit = try readHex4()
            if unit >= 0xDC00 && unit <= 0xDFFF { throw fail(.loneSurrogate) }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard end - pos >= 2, base[pos] == 0x5C, base[pos + 1] == 0x75 else {
                    throw fail(pos + 2 > end ? .unexpectedEnd : .loneSurrogate)
                }
                pos += 2
                let low = try readHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail(.loneSurrogate) }
            }
        default: throw fail(.invalidEscape)
        }
    }

    mutating func readHex4() throws(JSONFailure) -> UInt32 {
        guard end - pos >= 4 else { throw fail(.unexpectedEnd) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base[pos]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail(.invalidUnicodeEscape)
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    /// The raw bytes of a span (no escape decoding).
    public func bytes(of span: StringSpan) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + span.start, count: span.end - span.start)
    }

    /// Appends the decoded value of a validated span to `out`.
    public func decode(_ span: StringSpan, into out: inout [UInt8]) {
        var i = span.start
        while i < span.end {
            let c = base[i]
            if c != 0x5C { out.append(c); i += 1; continue }
            let e = base[i + 1]
            i += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = hex4(at: i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = hex4(at: i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(scalar, to: &out)
            default: out.append(e)
            }
        }
    }

    func hex4(at i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[i + k]
            v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
        }
        return v
    }

    func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        if s < 0x80 {
            out.append(UInt8(s))
        } else if s < 0x800 {
            out.append(UInt8(0xC0 | s >> 6)); out.append(UInt8(0x80 | s & 0x3F))
        } else if s < 0x10000 {
            out.append(UInt8(0xE0 | s >> 12)); out.append(UInt8(0x80 | (s >> 6) & 0x3F))
            out.append(UInt8(0x80 | s & 0x3F))
        } else {
            out.append(UInt8(0xF0 | s >> 18)); out.append(UInt8(0x80 | (s >> 12) & 0x3F))
            out.append(UInt8(0x80 | (s >> 6) & 0x3F)); out.append(UInt8(0x80 | s & 0x3F))
        }
    }

    // MARK: numbers

    /// Reads a number at the current position (a `-` or digit), returning its nearest `Double`.
    /// Works on a local position (`p`), stored back once or at a failure: the loops then keep it
    /// in a register instead of writing the reader at every digit.
    @inline(__always) public mutating func readNumber() throws(JSONFailure) -> Double {
        let start = pos
        var p = pos
        var negative = false
        if base[p] == 0x2D { negative = true; p &+= 1 }
        guard p < end else { pos = p; throw fail(.unexpectedEnd) }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits accumulated into mantissa
        var dropped = false  // digits beyond 19 that did not fit
        var exponent = 0
        let first = base[p]
        if first == 0x30 {
            p &+= 1
        } else if first &- 0x31 < 9 {
            while digits <= 11, end &- p >= 8, let eight = eightDigits(at: p) {
                mantissa = mantissa &* 100_000_000 &+ eight; digits &+= 8; p &+= 8
            }
            while p < end, case let d = base[p] &- 0x30, d < 10 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(d); digits &+= 1 } else {
                    exponent &+= 1; dropped = dropped || d != 0
                }
                p &+= 1
            }
        } else {
            pos = p
            throw fail(.unexpectedByte)
        }
        if p < end && base[p] == 0x2E {
            p &+= 1
            guard p < end else { pos = p; throw fail(.unexpectedEnd) }
            guard base[p] &- 0x30 < 10 else { pos = p; throw fail(.unexpectedByte) }
            while mantissa != 0, digits <= 11, end &- p >= 8, let eight = eightDigits(at: p) {
                mantissa = mantissa &* 100_000_000 &+ eight; digits &+= 8; exponent &-= 8; p &+= 8
            }
            while p < end, case let d = base[p] &- 0x30, d < 10 {
                if mantissa == 0 && d == 0 {
                    exponent &-= 1
                } else if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d); digits &+= 1; exponent &-= 1
                } else {
                    dropped = dropped || d != 0
                }
                p &+= 1
            }
        }
        var explicitExponent = 0
        if p < end && (base[p] | 0x20) == 0x65 {
            p &+= 1
            guard p < end else { pos = p; throw fail(.unexpectedEnd) }
            var expNegative = false
            if base[p] == 0x2B || base[p] == 0x2D {
                expNegative = base[p] == 0x2D
                p &+= 1
                guard p < end else { pos = p; throw fail(.unexpectedEnd) }
            }
            guard base[p] &- 0x30 < 10 else { pos = p; throw fail(.unexpectedByte) }
            while p < end, case let d = base[p] &- 0x30, d < 10 {
                if explicitExponent < 100_000 { explicitExponent = explicitExponent &* 10 &+ Int(d) }
                p &+= 1
            }
            if expNegative { explicitExponent = -explicitExponent }
        }
        pos = p
        exponent &+= explicitExponent
        // Clinger's fast path: exact when the mantissa fits in 53 bits and 10^|e| is exact.
        if !dropped && mantissa < (1 << 53) && exponent >= -22 && exponent <= 22 {
            var v = Double(mantissa)
            var scale = 1.0  // 10^|e| by repeated multiplication: exact up to 10^22
            for _ in 0..<(exponent < 0 ? -exponent : exponent) { scale *= 10 }
            if exponent < 0 { v /= scale } else { v *= scale }
            return negative ? -v : v
        }
        if mantissa == 0 && !dropped { return negative ? -0.0 : 0.0 }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        guard let v = Double(text), v.isFinite else {
            pos = start
            throw fail(.numberOutOfRange)
        }
        return v
    }

    /// The value of the eight decimal digits at `i` (which has eight bytes), or nil when any
    /// of them is not a digit.
    @inline(__always) func eightDigits(at i: Int) -> UInt64? {
        let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        // Every byte in 0x30...0x39: its high nibble is 3, and adding 6 keeps it there.
        let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, threes: UInt64 = 0x3030_3030_3030_3030
        guard w & high == threes, (w &+ 0x0606_0606_0606_0606) & high == threes else { return nil }
        // Pairs, then fours, then all eight; the first byte is the most significant digit.
        var v = ((w & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// Reads past a number at the current position (a `-` or digit), validating its grammar;
    /// like `readNumber` it rejects one too large for a finite `Double`, but converts only then.
    @inline(__always) public mutating func skipNumber() throws(JSONFailure) {
        let start = pos
        var p = pos
        if base[p] == 0x2D { p &+= 1 }
        guard p < end else { pos = p; throw fail(.unexpectedEnd) }
        var large = false
        let first = base[p]
        if first == 0x30 {
            p &+= 1
        } else if first &- 0x31 < 9 {
            let intStart = p
            while p < end, base[p] &- 0x30 < 10 { p &+= 1 }
            large = p &- intStart > 300
        } else {
            pos = p
            throw fail(.unexpectedByte)
        }
        if p < end && base[p] == 0x2E {
            p &+= 1
            guard p < end else { pos = p; throw fail(.unexpectedEnd) }
            guard base[p] &- 0x30 < 10 else { pos = p; throw fail(.unexpectedByte) }
            while p < end, base[p] &- 0x30 < 10 { p &+= 1 }
        }
        if p < end && (base[p] | 0x20) == 0x65 {
            large = true  // an exponent: let the full conversion judge its range
        }
        pos = p
        guard large else { return }
        pos = start
        _ = try readNumber()
    }

    // MARK: skipping

    /// Reads and discards one value of any kind, validating it; `depth` is the current nesting.
    public mutating func skipValue(depth: Int) throws(JSONFailure) {
        let c = try peek()
        switch c {
        case 0x22: _ = try readString()
        case 0x7B: try skipContainer(close: 0x7D, isObject: true, depth: depth + 1)
        case 0x5B: try skipContainer(close: 0x5D, isObject: false, depth: depth + 1)
        case 0x74, 0x66, 0x6E: _ = try readLiteral()
        case 0x2D, 0x30...0x39: try skipNumber()
        default: throw fail(.unexpectedByte)
        }
    }

    mutating func skipContainer(close: UInt8, isObject: Bool, depth: Int) throws(JSONFailure) {
        guard depth <= Self.maxDepth else { throw fail(.tooDeep) }
        pos += 1
        if try peek() == close { pos += 1; return }
        while true {
            if isObject {
                guard try peek() == 0x22 else { throw fail(.unexpectedByte) }
                _ = try readString()
                try expect(0x3A)
            }
            try skipValue(depth: depth)
            let c = try peek()
            if c == close { pos += 1; return }
            guard c == 0x2C else { throw fail(.unexpectedByte) }
            pos += 1
            if try peek() == close { pos += 1; return }  // one trailing comma, as Foundation allows
        }
    }
}
