/// Reads one event's JSON in a single pass, validating all of it and extracting only the fields
/// of its `FieldPlan`. Reuses its buffers: no allocation per event once warmed up.
public final class EventScanner {
    /// What a scan found.
    public enum Outcome: Equatable, Sendable {
        /// A JSON object; its fields are extracted.
        case object
        /// Valid JSON, but not an object.
        case notAnObject
        /// Not valid JSON.
        case invalid(JSONFailure)
    }

    /// The fields this scanner extracts.
    public let plan: FieldPlan
    let trie: FlatTrie
    /// One value per slot, allocated once (no uniqueness check per write on the hot path).
    let fields: UnsafeMutableBufferPointer<FieldValue>
    var scratch: [UInt8] = []
    var keyScratch: [UInt8] = []
    /// The keys met last time, per (trie node, position in its object): see `KeyCache`.
    let keys: KeyCache

    /// A scanner for `plan`.
    public init(plan: FieldPlan) {
        self.plan = plan
        self.trie = FlatTrie(plan)
        self.keys = KeyCache(nodes: plan.nodes.count)
        self.fields = .allocate(capacity: max(plan.count, 1))
        self.fields.initialize(repeating: FieldValue())
        scratch.reserveCapacity(256)
    }

    deinit {
        fields.deallocate()
        keys.deallocate()
    }

    /// Scans `bytes` and calls `body` with a view of the extracted fields, valid only inside it.
    @inline(__always)
    public func scan<R>(_ bytes: UnsafeRawBufferPointer, _ body: (Outcome, EventView) throws -> R) rethrows -> R {
        let outcome = scan(bytes)
        return try scratch.withUnsafeBytes { s in
            try body(outcome, EventView(source: bytes, scratch: s, fields: UnsafeBufferPointer(fields)))
        }
    }

    /// Scans `bytes`, filling the fields; read them through `scan(_:_:)`'s view.
    public func scan(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        for i in 0..<fields.count { fields[i].kind = .missing }
        if !scratch.isEmpty { scratch.removeAll(keepingCapacity: true) }
        var r = JSONReader(bytes)
        r.skipByteOrderMark()
        do throws(JSONFailure) {
            let outcome: Outcome
            if try r.peek() == 0x7B {
                try scanObject(&r, node: 0, depth: 1)
                outcome = .object
            } else {
                try r.skipValue(depth: 0)
                outcome = .notAnObject
            }
            guard r.atEnd() else { throw JSONFailure(.trailingData, at: r.pos) }
            return outcome
        } catch {
            return .invalid(error)
        }
    }

    func scanObject(_ r: inout JSONReader, node: Int, depth: Int) throws(JSONFailure) {
        guard depth <= JSONReader.maxDepth else { throw JSONFailure(.tooDeep, at: r.pos) }
        r.pos += 1
        if try r.peek() == 0x7D { r.pos += 1; return }
        let hasChildren = trie.childCount[node] > 0
        var index = 0
        while true {
            guard try r.peek() == 0x22 else { throw JSONFailure(.unexpectedByte, at: r.pos) }
            var child = keys.match(node: node, index: index, in: r)
            if child == KeyCache.miss {
                let key = try r.readString()
                child = hasChildren ? match(key, in: r, node: node) : -1
                if !key.hasEscapes { keys.remember(node: node, index: index, key: r.bytes(of: key), child: child) }
            } else {
                r.pos += keys.quotedLength(node: node, index: index)
            }
            index += 1
            try r.expect(0x3A)
            if child < 0 {
                try r.skipValue(depth: depth)
            } else {
                try scanField(&r, node: child, depth: depth)
            }
            let c = try r.peek()
            if c == 0x7D { r.pos += 1; return }
            guard c == 0x2C else { throw JSONFailure(.unexpectedByte, at: r.pos) }
            r.pos += 1
            if try r.peek() == 0x7D { r.pos += 1; return }
        }
    }

    /// The child of `node` named by `key`, or -1.
    @inline(__always)
    func match(_ key: JSONReader.StringSpan, in r: JSONReader, node: Int) -> Int {
        if key.hasEscapes {
            keyScratch.removeAll(keepingCapacity: true)
            r.decode(key, into: &keyScratch)
            return keyScratch.withUnsafeBufferPointer { trie.child(of: node, named: $0) }
        }
        return trie.child(of: node, named: r.bytes(of: key))
    }

    func scanField(_ r: inout JSONReader, node: Int, depth: Int) throws(JSONFailure) {
        trie.clearSubtree(node, in: fields)  // a repeated key: the last one counts
        var v = FieldValue()
        switch try r.peek() {
        case 0x22:
            let span = try r.readString()
            v.kind = .string
            if span.hasEscapes {
                let start = scratch.count
                r.decode(span, into: &scratch)
                v.inScratch = true
                v.stringStart = Int32(start)
                v.stringCount = Int32(scratch.count - start)
            } else {
                v.stringStart = Int32(span.start)
                v.stringCount = Int32(span.end - span.start)
            }
        case 0x7B:
            v.kind = .object
            if trie.childCount[node] == 0 { try r.skipValue(depth: depth) } else {
                try scanObject(&r, node: node, depth: depth + 1)
            }
        case 0x5B:
            v.kind = .array
            try r.skipValue(depth: depth)
        case 0x74, 0x66, 0x6E:
            let c = try r.readLiteral()
            if c == 0x6E { v.kind = .null } else { v.kind = .bool; v.number = c == 0x74 ? 1 : 0 }
        case 0x2D, 0x30...0x39:
            v.kind = .number
            v.number = try r.readNumber()
        default:
            throw JSONFailure(.unexpectedByte, at: r.pos)
        }
        let slot = trie.slot[node]
        if slot >= 0 { fields[slot] = v }
    }
}
