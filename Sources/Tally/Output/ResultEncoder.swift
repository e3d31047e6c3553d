/// Renders results as the output records of SPEC §4:
/// `{"query":…,"key":{…},"window":{"start":…,"end":…},"final":…,"values":{…}}`.
public struct ResultEncoder: Sendable {
    let queryPrefix: [UInt8]
    let keyNames: [[UInt8]]
    let valueNames: [[UInt8]]
    let counts: [Bool]
    /// Most bytes of a record besides 6 per key byte (escaped strings).
    let fixedBound: Int
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
        fixedBound = Self.bound(queryPrefix: queryPrefix, keyNames: keyNames, valueNames: valueNames)
    }

    /// Most bytes of a record besides its key's escaped strings.
    static func bound(queryPrefix: [UInt8], keyNames: [[UInt8]], valueNames: [[UInt8]]) -> Int {
        queryPrefix.count + Self.windowStart.count + Self.windowEnd.count + Self.updateValues.count
            + Self.close.count + 2 * JSONWriter.maxNumberBytes
            + keyNames.reduce(0) { $0 + $1.count + 1 + JSONWriter.maxNumberBytes + 2 }
            + valueNames.reduce(0) { $0 + $1.count + 1 + JSONWriter.maxNumberBytes }
    }

    /// Appends the record of result `i` of `batch` (no newline).
    public func encode(_ batch: ResultBatch, _ i: Int, into out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: fixedBound + 6 * batch.key(i).count) { put(batch, i, &$0) }
    }

    /// Appends the records of `batch`, each followed by a newline (JSON Lines).
    public func encodeLines(_ batch: ResultBatch, into out: inout [UInt8]) {
        var bound = 0
        for i in batch.indices { bound += fixedBound + 6 * batch.key(i).count + 1 }
        ByteCursor.append(to: &out, reserving: bound) { c in
            for i in batch.indices {
                put(batch, i, &c)
                c.put(0x0A)
            }
        }
    }

    @inline(__always) func put(_ batch: ResultBatch, _ i: Int, _ c: inout ByteCursor) {
        c.put(queryPrefix)
        putKeyMembers(batch.key(i), &c)
        c.put(Self.windowStart)
        JSONWriter.putInt(batch.start(i), &c)
        c.put(Self.windowEnd)
        JSONWriter.putInt(batch.end(i), &c)
        c.put(batch.isFinal(i) ? Self.finalValues : Self.updateValues)
        let values = batch.values(i)
        for (n, v) in values.enumerated() { putValueMember(n, v.isNaN ? nil : v, &c) }
        c.put(Self.close)
    }

    /// Appends `"path":value` pairs of an encoded group key.
    public func appendKeyMembers(_ key: [UInt8], into out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: fixedBound + 6 * key.count) { putKeyMembers(key[...], &$0) }
    }

    func putKeyMembers(_ key: ArraySlice<UInt8>, _ c: inout ByteCursor) {
        var field = 0
        GroupKey.forEach(in: key) { part in
            if field > 0 { c.put(0x2C) }
            c.put(keyNames[field])
            field += 1
            switch part {
            case .string(let b): b.withUnsafeBufferPointer { JSONWriter.putString($0, &c) }
            case .number(let n): JSONWriter.putNumber(n, &c)
            case .bool(let b): c.put(b ? Self.trueText : Self.falseText)
            }
        }
    }

    /// Appends `"name":value` pairs of aggregate values.
    public func appendValueMembers(_ values: [Double?], into out: inout [UInt8]) {
        ByteCursor.append(to: &out, reserving: fixedBound) { putValueMembers(values, &$0) }
    }

    func putValueMembers(_ values: [Double?], _ c: inout ByteCursor) {
        for i in values.indices { putValueMember(i, values[i], &c) }
    }

    /// Writes `"name":value` of aggregate `i`, after a comma unless it is the first.
    @inline(__always) func putValueMember(_ i: Int, _ v: Double?, _ c: inout ByteCursor) {
        if i > 0 { c.put(0x2C) }
        c.put(valueNames[i])
        if let v {
            if counts[i] { JSONWriter.putInt(Int64(v), &c) } else { JSONWriter.putDouble(v, &c) }
        } else {
            c.put(Self.null)
        }
    }

    /// The message key of a result: stable and unique per (group key, window), so a compacted
    /// topic keeps the latest result of each window: `<key values as JSON>@<window start>`.
    public func messageKey(_ batch: ResultBatch, _ i: Int, into out: inout [UInt8]) {
        let key = batch.key(i)
        ByteCursor.append(to: &out, reserving: fixedBound + 6 * key.count) { c in
            c.put(0x7B)
            putKeyMembers(key, &c)
            c.put(0x7D)
            c.put(0x40)
            JSONWriter.putInt(batch.start(i), &c)
        }
    }
}
