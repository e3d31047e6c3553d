/// Renders results as the output records of SPEC §4:
/// `{"query":…,"key":{…},"window":{"start":…,"end":…},"final":…,"values":{…}}`.
public struct ResultEncoder: Sendable {
    let queryPrefix: [UInt8]
    let keyNames: [[UInt8]]
    let valueNames: [[UInt8]]
    let counts: [Bool]
    static let windowStart: [UInt8] = Array("},\"window\":{\"start\":".utf8)
    static let windowEnd: [UInt8] = Array(",\"end\":".utf8)
    static let finalValues: [UInt8] = Array("},\"final\":true,\"values\":{".utf8)
    static let updateValues: [UInt8] = Array("},\"final\":false,\"values\":{".utf8)
    static let close: [UInt8] = Array("}}".utf8)
    static let null: [UInt8] = Array("null".utf8)
    static let trueText: [UInt8] = Array("true".utf8)
    static let falseText: [UInt8] = Array("false".utf8)

    /// An encoder for the results of `definition` laid out by `layout`.
    public init(_ definition: Definition, layout: AggregateLayout) {
        var prefix: [UInt8] = Array("{\"query\":".utf8)
        JSONWriter.appendString(definition.name, to: &prefix)
        prefix += Array(",\"key\":{".utf8)
        queryPrefix = prefix
        keyNames = definition.groupBy.map { p in
            var b: [UInt8] = []
            JSONWriter.appendString(p.text, to: &b)
            b.append(0x3A)
            return b
        }
        valueNames = definition.aggregates.map { a in
            var b: [UInt8] = []
            JSONWriter.appendString(a.name, to: &b)
            b.append(0x3A)
            return b
        }
        counts = definition.aggregates.indices.map { layout.isCount($0) }
    }

    /// Appends the record of `r` (no newline).
    public func encode(_ r: WindowResult, into out: inout [UInt8]) {
        out += queryPrefix
        appendKeyMembers(r.key, into: &out)
        out += Self.windowStart
        JSONWriter.appendInt(r.start, to: &out)
        out += Self.windowEnd
        JSONWriter.appendInt(r.end, to: &out)
        out += r.isFinal ? Self.finalValues : Self.updateValues
        appendValueMembers(r.values, into: &out)
        out += Self.close
    }

    /// Appends `"path":value` pairs of an encoded group key.
    public func appendKeyMembers(_ key: [UInt8], into out: inout [UInt8]) {
        var field = 0
        GroupKey.forEach(in: key) { part in
            if field > 0 { out.append(0x2C) }
            out += keyNames[field]
            field += 1
            switch part {
            case .string(let b): JSONWriter.appendString(b, to: &out)
            case .number(let n): JSONWriter.appendNumber(n, to: &out)
            case .bool(let b): out += b ? Self.trueText : Self.falseText
            }
        }
    }

    /// Appends `"name":value` pairs of aggregate values.
    public func appendValueMembers(_ values: [Double?], into out: inout [UInt8]) {
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(0x2C) }
            out += valueNames[i]
            if let v {
                if counts[i] { JSONWriter.appendInt(Int64(v), to: &out) } else { JSONWriter.appendDouble(v, to: &out) }
            } else {
                out += Self.null
            }
        }
    }

    /// The message key of a result: stable and unique per (group key, window), so a compacted
    /// topic keeps the latest result of each window: `<key values as JSON>@<window start>`.
    public func messageKey(_ r: WindowResult, into out: inout [UInt8]) {
        out.append(0x7B)
        appendKeyMembers(r.key, into: &out)
        out.append(0x7D)
        out.append(0x40)
        JSONWriter.appendInt(r.start, to: &out)
    }
}
