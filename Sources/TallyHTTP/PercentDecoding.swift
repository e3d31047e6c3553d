/// Strict percent-decoding of one URL path or query component: `%XX` must be two hex digits and
/// the decoded bytes valid UTF-8, else the component is refused (nil) rather than guessed at.
/// `+` stays a plus: in a path it is not a space.
enum PercentDecoding {
    /// The decoded text, or nil when the encoding or the UTF-8 is invalid.
    static func decode(_ component: Substring) -> String? {
        let utf8 = component.utf8
        guard utf8.contains(UInt8(ascii: "%")) else { return String(component) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let byte = utf8[i]
            if byte != UInt8(ascii: "%") {
                bytes.append(byte)
                i = utf8.index(after: i)
                continue
            }
            let high = utf8.index(after: i)
            guard high != utf8.endIndex, let h = hexValue(utf8[high]) else { return nil }
            let low = utf8.index(after: high)
            guard low != utf8.endIndex, let l = hexValue(utf8[low]) else { return nil }
            bytes.append(h << 4 | l)
            i = utf8.index(after: low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
