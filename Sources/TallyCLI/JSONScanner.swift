/// A forward-only cursor over JSON bytes, with just what `KeyField` needs.
struct JSONScanner {
    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The next non-blank byte, not consumed.
    var peek: UInt8? {
        mutating get {
            skipBlanks()
            return i < bytes.count ? bytes[i] : nil
        }
    }

    /// Consumes `byte` if it is next (after blanks).
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        i += 1
        return true
    }

    /// A string's decoded bytes (escapes resolved, `\u` to UTF-8).
    mutating func string() -> [UInt8]? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return out }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                continue
            }
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                guard let scalar = unicodeEscape() else { return nil }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: out.append(e)
            }
        }
        return nil
    }

    /// The key for the value here: a string's text or a number's JSON text; nil otherwise.
    mutating func keyValue() -> [UInt8]? {
        guard let first = peek else { return nil }
        if first == UInt8(ascii: "\"") { return string() }
        guard first == UInt8(ascii: "-") || (48...57).contains(first) else { return nil }
        let start = i
        while i < bytes.count, Self.numberBytes.contains(bytes[i]) { i += 1 }
        return Array(bytes[start..<i])
    }

    /// Skips one value of any kind; false on malformed input.
    mutating func skipValue() -> Bool {
        guard let first = peek else { return false }
        if first == UInt8(ascii: "\"") { return string() != nil }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            while i < bytes.count, !Self.delimiters.contains(bytes[i]) { i += 1 }
            return true
        }
        var depth = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                guard string() != nil else { return false }
                continue
            }
            i += 1
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
            if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return true }
            }
        }
        return false
    }

    private mutating func skipBlanks() {
        while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
    }

    private mutating func hex4() -> UInt32? {
        guard i + 4 <= bytes.count,
            let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16)
        else { return nil }
        i += 4
        return v
    }

    /// After `\u`: one code point, joining a surrogate pair.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(high), i + 6 <= bytes.count,
            bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
        {
            i += 2
            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        }
        return Unicode.Scalar(high)
    }

    private static let numberBytes: Set<UInt8> = Set("0123456789+-.eE".utf8)
    private static let delimiters: Set<UInt8> = Set(",}] \t\r\n".utf8)
}
