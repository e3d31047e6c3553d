/// Group keys as compact bytes: per `groupBy` field a tag and its value (string: `s`, 4-byte
/// little-endian length, UTF-8; number: `n`, 8 bytes of the IEEE value with -0 as 0; `t`/`f`).
/// Equal values give equal bytes, so the bytes key hash tables and, later, RocksDB.
public enum GroupKey {
    /// Appends the key of `view` for `slots` to `out`, or tells why there is none.
    @inline(__always)
    static func encode(_ view: EventView, slots: [Int], into out: inout KeyBuilder) -> RejectReason? {
        for s in slots {
            let v = view[s]
            switch v.kind {
            case .missing, .null: return .missingGroupField
            case .object, .array: return .invalidGroupField
            case .string:
                let b = view.bytes(of: v)
                out.append(0x73)
                out.append(littleEndian: UInt32(b.count))
                out.append(b)
            case .number:
                out.append(0x6E)
                let n = v.number == 0 ? 0.0 : v.number
                out.append(littleEndian: n.bitPattern)
            case .bool:
                out.append(v.number != 0 ? 0x74 : 0x66)
            }
        }
        return nil
    }

    /// A decoded key value.
    public enum Value: Equatable, Sendable {
        case string(String)
        case number(Double)
        case bool(Bool)
    }

    /// One value of an encoded key, seen in place: a string as a slice of the key's bytes.
    public enum Part {
        case string(ArraySlice<UInt8>)
        case number(Double)
        case bool(Bool)
    }

    /// Calls `body` with each value encoded in `bytes`, in `groupBy` order, without copying strings.
    @inline(__always)
    public static func forEach(in bytes: [UInt8], _ body: (Part) -> Void) {
        forEach(in: bytes[...], body)
    }

    /// `forEach` over a key in place in a larger buffer (a `ResultBatch`'s keys).
    @inline(__always)
    public static func forEach(in bytes: ArraySlice<UInt8>, _ body: (Part) -> Void) {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let tag = bytes[i]
            i += 1
            switch tag {
            case 0x73:
                let len = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24
                body(.string(bytes[(i + 4)..<(i + 4 + len)]))
                i += 4 + len
            case 0x6E:
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                body(.number(Double(bitPattern: bits)))
                i += 8
            default:
                body(.bool(tag == 0x74))
            }
        }
    }

    /// The values encoded in `bytes`.
    public static func decode(_ bytes: [UInt8]) -> [Value] {
        var out: [Value] = []
        forEach(in: bytes) { part in
            switch part {
            case .string(let b): out.append(.string(String(decoding: b, as: UTF8.self)))
            case .number(let n): out.append(.number(n))
            case .bool(let b): out.append(.bool(b))
            }
        }
        return out
    }

    /// The key bytes of literal values (for HTTP lookups and tests).
    public static func encode(_ values: [Value]) -> [UInt8] {
        var out: [UInt8] = []
        for v in values {
            switch v {
            case .string(let s):
                out.append(0x73)
                withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian) { out.append(contentsOf: $0) }
                out.append(contentsOf: s.utf8)
            case .number(let d):
                out.append(0x6E)
                withUnsafeBytes(of: (d == 0 ? 0.0 : d).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            case .bool(let b): out.append(b ? 0x74 : 0x66)
            }
        }
        return out
    }
}
