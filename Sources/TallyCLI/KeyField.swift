/// Finds one top-level or dotted field (`customer.id`) in a JSON object by scanning its bytes,
/// and gives the message key for it: a string's decoded text, a number's JSON text; any other
/// value, a missing field or malformed JSON gives nil (no key). No JSON tree is built.
struct KeyField {
    private let path: [[UInt8]]

    init(_ dotted: String) {
        path = dotted.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }

    /// The key bytes for `line`, or nil.
    func key(in line: UnsafeRawBufferPointer) -> [UInt8]? {
        var scanner = JSONScanner(line)
        return find(&scanner, depth: 0)
    }

    private func find(_ s: inout JSONScanner, depth: Int) -> [UInt8]? {
        guard s.consume(UInt8(ascii: "{")) else { return nil }
        if s.consume(UInt8(ascii: "}")) { return nil }
        while true {
            guard let name = s.string(), s.consume(UInt8(ascii: ":")) else { return nil }
            if name == path[depth] {
                if depth == path.count - 1 { return s.keyValue() }
                return s.peek == UInt8(ascii: "{") ? find(&s, depth: depth + 1) : nil
            }
            guard s.skipValue() else { return nil }
            if s.consume(UInt8(ascii: ",")) { continue }
            return nil
        }
    }
}
