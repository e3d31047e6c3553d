/// A parsed JSON document, for definition files (not the event hot path). Object members keep
/// their order so that messages can point at them; on a duplicate key the last one counts.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        case let (.number(x), .number(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.array(x), .array(y)): x == y
        case let (.object(x), .object(y)):
            x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// Parses a whole JSON text.
    public static func parse(_ bytes: [UInt8]) throws(JSONFailure) -> JSONValue {
        let result: Result<JSONValue, JSONFailure> = bytes.withUnsafeBytes { raw in
            var reader = JSONReader(raw)
            reader.skipByteOrderMark()
            do throws(JSONFailure) {
                let value = try reader.readTree(depth: 0)
                guard reader.atEnd() else { throw JSONFailure(.trailingData, at: reader.pos) }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The member named `key` of an object (the last one when repeated).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }
}

extension JSONReader {
    /// Reads one value into a tree.
    mutating func readTree(depth: Int) throws(JSONFailure) -> JSONValue {
        let c = try peek()
        switch c {
        case 0x22: return .string(try readDecodedString())
        case 0x74: _ = try readLiteral(); return .bool(true)
        case 0x66: _ = try readLiteral(); return .bool(false)
        case 0x6E: _ = try readLiteral(); return .null
        case 0x2D, 0x30...0x39: return .number(try readNumber())
        case 0x5B, 0x7B:
            guard depth + 1 <= Self.maxDepth else { throw fail(.tooDeep) }
            let isObject = c == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            pos += 1
            var items: [JSONValue] = []
            var members: [(key: String, value: JSONValue)] = []
            if try peek() != close {
                while true {
                    if isObject {
                        guard try peek() == 0x22 else { throw fail(.unexpectedByte) }
                        let key = try readDecodedString()
                        try expect(0x3A)
                        members.append((key, try readTree(depth: depth + 1)))
                    } else {
                        items.append(try readTree(depth: depth + 1))
                    }
                    let d = try peek()
                    if d == close { break }
                    guard d == 0x2C else { throw fail(.unexpectedByte) }
                    pos += 1
                    if try peek() == close { break }
                }
            }
            pos += 1
            return isObject ? .object(members) : .array(items)
        default:
            throw fail(.unexpectedByte)
        }
    }

    mutating func readDecodedString() throws(JSONFailure) -> String {
        let span = try readString()
        if !span.hasEscapes { return String(decoding: bytes(of: span), as: UTF8.self) }
        var out: [UInt8] = []
        decode(span, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
