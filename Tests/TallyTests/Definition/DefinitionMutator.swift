@testable import Tally

/// Makes broken definition files from valid ones: a value of the wrong type at any JSON path, a
/// member removed or added, the text truncated, bytes changed, or random bytes. Each structured
/// change says where it happened, so a test can check that the problem is reported there.
struct DefinitionMutator {
    /// One input and, for structured changes, the JSON path and kind of change.
    struct Case {
        enum Change: Equatable {
            case wrongType
            /// `required`: SPEC §3 says the member must be there (so the problem is "missing").
            case removed(required: Bool)
            case added(key: String)
            case text
        }
        var bytes: [UInt8]
        var path: String
        var change: Change
    }

    var rng: SplitMix

    /// Valid definitions covering every field: tumbling and sliding windows, every `where` op.
    static let seeds: [String] = [
        """
        {"name":"revenue","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"},
         {"field":"total","op":"ge","value":1},{"field":"region","op":"in","value":["eu","us"]},{"field":"paid","op":"exists"}],
         "groupBy":["customer_id","customer.tier"],"time":{"field":"timestamp","format":"epoch_ms"},
         "window":{"type":"sliding","size":"5m","slide":"1m","grace":"10s"},
         "aggregates":[{"name":"orders","fn":"count"},{"name":"revenue","fn":"sum","field":"total"},
          {"name":"avg_total","fn":"avg","field":"total"},{"name":"with_total","fn":"count","field":"total"}],
         "emit":"update","output":"revenue_out","deadLetter":"revenue.bad"}
        """,
        """
        {"name":"g","source":"events","groupBy":[],"time":{"field":"at","format":"iso8601"},
         "window":{"type":"tumbling","size":"1h"},"aggregates":[{"name":"m","fn":"max","field":"v"},{"name":"n","fn":"min","field":"v"}]}
        """,
    ]

    /// Member names that must be rendered carefully in a path.
    static let oddKeys = ["extra", "Name", "a b", "a.b", "x\ny", "q\"uote", "back\\slash", "", "$", "é", "🙂", "a: b", "[0]"]

    /// Wrong-type replacements (some right types are in here too; `wrongType` picks another type).
    static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .number(0), .number(-1), .number(1e300), .number(0.5), .string(""),
        .string("x"), .string("5m"), .string("a\nb"), .string(String(repeating: "z", count: 5000)), .array([]),
        .array([.number(1)]), .array([.string("a"), .null]), .object([]), .object([("field", .string("x"))]),
    ]

    static func typeName(_ v: JSONValue) -> Int {
        switch v {
        case .null: 0
        case .bool: 1
        case .number: 2
        case .string: 3
        case .array: 4
        case .object: 5
        }
    }

    /// Every path of `v`, with the value there.
    static func paths(_ v: JSONValue, _ path: String = "$") -> [(String, JSONValue)] {
        var out = [(path, v)]
        switch v {
        case .object(let members):
            for m in members { out += paths(m.value, "\(path).\(m.key)") }
        case .array(let items):
            for (i, item) in items.enumerated() { out += paths(item, "\(path)[\(i)]") }
        default: break
        }
        return out
    }

    /// `v` with the value at `target` changed by `f` (nil removes it from its object or list).
    static func edit(_ v: JSONValue, _ path: String, _ target: String, _ f: (JSONValue) -> JSONValue?) -> JSONValue? {
        if path == target { return f(v) }
        guard target.hasPrefix(path) else { return v }
        switch v {
        case .object(let members):
            return .object(members.compactMap { m in edit(m.value, "\(path).\(m.key)", target, f).map { (key: m.key, value: $0) } })
        case .array(let items):
            return .array(items.enumerated().compactMap { i, item in edit(item, "\(path)[\(i)]", target, f) })
        default:
            return v
        }
    }

    /// Whether SPEC §3 requires the member at `path` (an object member, not a list item).
    static func isRequired(_ path: String, in seed: JSONValue) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path.hasSuffix("]") else { return false }
        let key = String(path[path.index(after: dot)...])
        let parentPath = String(path[..<dot])
        let parent = paths(seed).first { $0.0 == parentPath }?.1
        switch parentPath {
        case "$": return ["name", "source", "groupBy", "window", "aggregates"].contains(key)
        case "$.window": return key == "type" || key == "size" || (key == "slide" && parent?["type"] == .string("sliding"))
        case "$.time": return key == "field"
        default:
            if parentPath.hasPrefix("$.where[") {
                return key == "field" || key == "op" || (key == "value" && parent?["op"] != .string("exists"))
            }
            if parentPath.hasPrefix("$.aggregates[") {
                return key == "name" || key == "fn" || (key == "field" && parent?["fn"] != .string("count"))
            }
            return false
        }
    }

    static func text(_ v: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(v, &out)
        return out
    }

    static func write(_ v: JSONValue, _ out: inout [UInt8]) {
        switch v {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let n): out += Array((n == n.rounded() && abs(n) < 1e15 ? "\(Int64(n))" : "\(n)").utf8)
        case .string(let s): JSONWriter.appendString(s, to: &out)
        case .array(let items):
            out.append(0x5B)
            for (i, item) in items.enumerated() { if i > 0 { out.append(0x2C) }; write(item, &out) }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                JSONWriter.appendString(m.key, to: &out)
                out.append(0x3A)
                write(m.value, &out)
            }
            out.append(0x7D)
        }
    }

    /// The next broken (or, rarely, still valid) definition.
    mutating func next() -> Case {
        let seed = try! JSONValue.parse(Array(rng.pick(Self.seeds).utf8))
        let all = Self.paths(seed)
        let (path, value) = rng.pick(all)
        switch rng.below(8) {
        case 0, 1:
            let others = Self.values.filter { Self.typeName($0) != Self.typeName(value) }
            let replacement = rng.pick(others)
            return Case(bytes: Self.text(Self.edit(seed, "$", path, { _ in replacement })!), path: path, change: .wrongType)
        case 2:
            guard path != "$" else { return next() }
            return Case(bytes: Self.text(Self.edit(seed, "$", path, { _ in nil })!), path: path,
                        change: .removed(required: Self.isRequired(path, in: seed)))
        case 3:
            let objects = all.filter { if case .object = $0.1 { true } else { false } }
            let (at, _) = rng.pick(objects)
            let key = rng.pick(Self.oddKeys)
            let added = rng.pick(Self.values)
            let edited = Self.edit(seed, "$", at) { v in
                guard case .object(let m) = v, !m.contains(where: { $0.key == key }) else { return v }
                return .object(m + [(key: key, value: added)])
            }!
            return Case(bytes: Self.text(edited), path: at, change: .added(key: key))
        case 4:
            let bytes = Self.text(seed)
            return Case(bytes: Array(bytes.prefix(rng.below(bytes.count))), path: "$", change: .text)
        case 5:
            var bytes = Self.text(seed)
            for _ in 0..<rng.int(1...4) {
                let i = rng.below(bytes.count)
                switch rng.below(3) {
                case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.insert(rng.pick(Array("{}[]\",:\\ 0e-.tfn".utf8) + [0x00, 0x0A, 0xC3, 0xFF]), at: i)
                default: bytes.remove(at: i)
                }
            }
            return Case(bytes: bytes, path: "$", change: .text)
        case 6:
            return Case(bytes: (0..<rng.int(0...200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, path: "$", change: .text)
        default:
            // Two structured changes at once: only the "no crash, well-formed problems" checks apply.
            var a = self.next()
            guard a.change != .text, let again = try? JSONValue.parse(a.bytes) else { return a }
            let (p2, _) = rng.pick(Self.paths(again))
            a.bytes = Self.text(Self.edit(again, "$", p2, { _ in self.rng.pick(Self.values) }) ?? again)
            a.change = .text
            return a
        }
    }
}
