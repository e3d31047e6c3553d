/// Turns a parsed definition file into a `Definition`, collecting every problem rather than
/// stopping at the first.
public struct DefinitionParser {
    let file: String
    /// Problems found so far.
    public private(set) var problems: [DefinitionProblem] = []

    /// A parser whose messages name `file`.
    public init(file: String) { self.file = file }

    /// Parses the bytes of a definition file; nil when there were problems.
    public static func parse(_ bytes: [UInt8], file: String) -> Result<Definition, DefinitionErrors> {
        var parser = DefinitionParser(file: file)
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            parser.report("$", "not valid JSON: \(error)", "a JSON object")
            return .failure(DefinitionErrors(problems: parser.problems))
        }
        if let d = parser.definition(json) { return .success(d) }
        return .failure(DefinitionErrors(problems: parser.problems))
    }

    mutating func report(_ path: String, _ problem: String, _ expected: String) {
        problems.append(DefinitionProblem(file: file, path: path, problem: problem, expected: expected))
    }

    static let rootKeys = [
        "name", "source", "where", "groupBy", "time", "window", "aggregates", "emit", "output", "deadLetter",
        "repartition",
    ]

    /// Validates a whole definition object.
    public mutating func definition(_ json: JSONValue) -> Definition? {
        guard let root = object(json, "$", allowed: Self.rootKeys, what: "a JSON object") else { return nil }
        let name = requiredString(root, "name", "$")
        if let name, !Self.isValidName(name) {
            report("$.name", "\(quoted(name)) is not a valid name", "lowercase letters, digits and _, starting with a letter, at most 63 characters")
        }
        let source = requiredString(root, "source", "$")
        if let source { checkTopic(source, "$.source") }
        let filters = root["where"].map { predicates($0, "$.where") } ?? []
        var groupBy: [FieldPath]? = nil
        if let g = root["groupBy"] { groupBy = paths(g, "$.groupBy") } else {
            report("$.groupBy", "missing", "a list of field paths, [] for one global group")
        }
        let time = root["time"].flatMap { timeSpec($0, "$.time") }
        var window: WindowSpec? = nil
        if let w = root["window"] { window = windowSpec(w, "$.window") } else {
            report("$.window", "missing", "{\"type\":\"tumbling\",\"size\":\"1m\"} or {\"type\":\"sliding\",\"size\":\"5m\",\"slide\":\"1m\"}")
        }
        var aggregates: [AggregateSpec]? = nil
        if let a = root["aggregates"] { aggregates = aggregateList(a, "$.aggregates") } else {
            report("$.aggregates", "missing", "a non-empty list of aggregates")
        }
        var emit = EmitMode.final
        if let e = root["emit"] {
            if case .string(let s) = e, let m = EmitMode(rawValue: s) { emit = m } else {
                report("$.emit", "\(describe(e)) is not an emit mode", "\"final\" or \"update\"")
            }
        }
        let output = optionalString(root, "output", "$")
        if let output { checkTopic(output, "$.output") }
        let deadLetter = optionalString(root, "deadLetter", "$")
        if let deadLetter { checkTopic(deadLetter, "$.deadLetter") }
        var repartition = false
        if let r = root["repartition"] {
            if case .bool(let b) = r { repartition = b } else {
                report("$.repartition", "\(describe(r)) is not a boolean", "true (the source is not partitioned by the group key) or false")
            }
        }
        guard problems.isEmpty, let name, let source, let groupBy, let window, let aggregates else { return nil }
        let out = output ?? name
        return Definition(
            name: name, source: source, filters: filters, groupBy: groupBy, time: time, window: window,
            aggregates: aggregates, emit: emit, output: out, deadLetter: deadLetter ?? "\(out).dlq",
            repartition: repartition)
    }

    static func isValidName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...63).contains(b.count), (0x61...0x7A).contains(b[0]) else { return false }
        return b.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    mutating func checkTopic(_ t: String, _ path: String) {
        let ok = (1...249).contains(t.utf8.count) && t != "." && t != ".."
            && t.utf8.allSatisfy { c in
                (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                    || c == 0x2E || c == 0x5F || c == 0x2D
            }
        if !ok { report(path, "\(quoted(t)) is not a valid Kafka topic name", "1 to 249 of a-z A-Z 0-9 . _ -") }
    }

    // MARK: where

    mutating func predicates(_ json: JSONValue, _ path: String) -> [Predicate] {
        guard case .array(let items) = json else {
            report(path, "\(describe(json)) is not a list", "a list of conditions like {\"field\":\"status\",\"op\":\"eq\",\"value\":\"paid\"}")
            return []
        }
        return items.enumerated().compactMap { i, item in predicate(item, "\(path)[\(i)]") }
    }

    mutating func predicate(_ json: JSONValue, _ path: String) -> Predicate? {
        guard let obj = object(json, path, allowed: ["field", "op", "value"], what: "a condition object with field, op and value") else { return nil }
        let field = requiredPath(obj, "field", path)
        var op: Predicate.Op? = nil
        let ops = Predicate.Op.allCases.map(\.rawValue).joined(separator: ", ")
        if let o = obj["op"] {
            if case .string(let s) = o, let v = Predicate.Op(rawValue: s) { op = v } else {
                report("\(path).op", "\(describe(o)) is not an operator", "one of \(ops)")
            }
        } else {
            report("\(path).op", "missing", "one of \(ops)")
        }
        guard let op else { return nil }
        var values: [Literal] = []
        let value = obj["value"]
        switch op {
        case .exists:
            if value != nil { report("\(path).value", "exists takes no value", "no value") }
        case .in:
            guard case .array(let items)? = value, !items.isEmpty else {
                report("\(path).value", value.map { "\(describe($0)) is not a non-empty list" } ?? "missing", "a non-empty list of strings, numbers or booleans")
                return nil
            }
            for (i, item) in items.enumerated() {
                if let l = literal(item, "\(path).value[\(i)]", ordered: false) { values.append(l) }
            }
        case .eq, .ne, .lt, .le, .gt, .ge:
            let ordered = op != .eq && op != .ne
            guard let value else {
                report("\(path).value", "missing", ordered ? "a number or string" : "a string, number or boolean")
                return nil
            }
            if let l = literal(value, "\(path).value", ordered: ordered) { values.append(l) }
        }
        guard let field else { return nil }
        return Predicate(field: field, op: op, values: values)
    }

    mutating func literal(_ json: JSONValue, _ path: String, ordered: Bool) -> Literal? {
        switch json {
        case .string(let s): return .string(Array(s.utf8))
        case .number(let n): return .number(n)
        case .bool(let b) where !ordered: return .bool(b)
        default:
            report(path, "\(describe(json)) cannot be compared", ordered ? "a number or string" : "a string, number or boolean")
            return nil
        }
    }

    // MARK: groupBy, time

    mutating func paths(_ json: JSONValue, _ path: String) -> [FieldPath]? {
        guard case .array(let items) = json else {
            report(path, "\(describe(json)) is not a list", "a list of field paths like [\"customer_id\"]")
            return nil
        }
        var out: [FieldPath] = []
        var ok = true
        for (i, item) in items.enumerated() {
            guard let p = fieldPath(item, "\(path)[\(i)]") else { ok = false; continue }
            if out.contains(p) {
                report("\(path)[\(i)]", "\(quoted(p.text)) is listed twice", "each field once")
                ok = false
            }
            out.append(p)
        }
        return ok ? out : nil
    }

    mutating func timeSpec(_ json: JSONValue, _ path: String) -> TimeSpec? {
        guard let obj = object(json, path, allowed: ["field", "format"], what: "{\"field\":\"timestamp\",\"format\":\"epoch_ms\"}") else { return nil }
        let field = requiredPath(obj, "field", path)
        var format = TimeSpec.Format.epochMs
        let formats = TimeSpec.Format.allCases.map(\.rawValue).joined(separator: ", ")
        if let f = obj["format"] {
            if case .string(let s) = f, let v = TimeSpec.Format(rawValue: s) { format = v } else {
                report("\(path).format", "\(describe(f)) is not a time format", "one of \(formats)")
                return nil
            }
        }
        return field.map { TimeSpec(field: $0, format: format) }
    }

    // MARK: window

    /// Sliding windows per event are capped so that closing a window stays cheap.
    public static let maxWindowsPerEvent: Int64 = 1000

    mutating func windowSpec(_ json: JSONValue, _ path: String) -> WindowSpec? {
        guard let obj = object(json, path, allowed: ["type", "size", "slide", "grace"], what: "a window object") else { return nil }
        var sliding: Bool? = nil
        if let t = obj["type"] {
            if case .string(let s) = t, s == "tumbling" || s == "sliding" { sliding = s == "sliding" } else {
                report("\(path).type", "\(describe(t)) is not a window type", "\"tumbling\" or \"sliding\"")
            }
        } else {
            report("\(path).type", "missing", "\"tumbling\" or \"sliding\"")
        }
        let size = duration(obj["size"], "\(path).size", positive: true)
        var slide: Int64? = nil
        if sliding == true {
            slide = duration(obj["slide"], "\(path).slide", positive: true)
        } else if sliding == false, obj["slide"] != nil {
            report("\(path).slide", "tumbling windows have no slide", "no slide, or \"type\":\"sliding\"")
        }
        let grace = obj["grace"] == nil ? 0 : duration(obj["grace"], "\(path).grace", positive: false)
        guard let sliding, let size, let grace else { return nil }
        if !sliding { return .tumbling(size, grace: grace) }
        guard let slide else { return nil }
        if size % slide != 0 {
            report("\(path).size", "\(TimeSpan.format(size)) is not a multiple of the slide \(TimeSpan.format(slide))", "a size that is a whole number of slides")
            return nil
        }
        if size / slide > Self.maxWindowsPerEvent {
            report("\(path).slide", "\(size / slide) windows per event", "at most \(Self.maxWindowsPerEvent) (size / slide)")
            return nil
        }
        return .sliding(size, every: slide, grace: grace)
    }

    mutating func duration(_ json: JSONValue?, _ path: String, positive: Bool) -> Int64? {
        let expected = positive ? "a duration like \"500ms\", \"10s\", \"5m\", \"1h\" or \"1d\", above zero" : "a duration like \"0s\", \"10s\" or \"5m\""
        guard let json else { report(path, "missing", expected); return nil }
        guard case .string(let s) = json, let ms = TimeSpan.milliseconds(s) else {
            report(path, "\(describe(json)) is not a duration", expected)
            return nil
        }
        if positive && ms == 0 { report(path, "\"\(s)\" is zero", expected); return nil }
        if ms > 365 * 86_400_000 { report(path, "\"\(s)\" is longer than a year", "at most 365d"); return nil }
        return ms
    }

    // MARK: aggregates

    mutating func aggregateList(_ json: JSONValue, _ path: String) -> [AggregateSpec]? {
        guard case .array(let items) = json, !items.isEmpty else {
            report(path, "\(describe(json)) is not a non-empty list", "a non-empty list like [{\"name\":\"orders\",\"fn\":\"count\"}]")
            return nil
        }
        var out: [AggregateSpec] = []
        var ok = true
        for (i, item) in items.enumerated() {
            guard let a = aggregate(item, "\(path)[\(i)]") else { ok = false; continue }
            if out.contains(where: { $0.name == a.name }) {
                report("\(path)[\(i)].name", "\"\(a.name)\" is used twice", "unique aggregate names")
                ok = false
            }
            out.append(a)
        }
        return ok ? out : nil
    }

    mutating func aggregate(_ json: JSONValue, _ path: String) -> AggregateSpec? {
        guard let obj = object(json, path, allowed: ["name", "fn", "field"], what: "{\"name\":…,\"fn\":…,\"field\":…}") else { return nil }
        let name = requiredString(obj, "name", path)
        if let name, !Self.isValidName(name) {
            report("\(path).name", "\(quoted(name)) is not a valid name", "lowercase letters, digits and _, starting with a letter")
        }
        var fn: AggregateSpec.Function? = nil
        let fns = AggregateSpec.Function.allCases.map(\.rawValue).joined(separator: ", ")
        if let f = obj["fn"] {
            if case .string(let s) = f, let v = AggregateSpec.Function(rawValue: s) { fn = v } else {
                report("\(path).fn", "\(describe(f)) is not an aggregate function", "one of \(fns)")
            }
        } else {
            report("\(path).fn", "missing", "one of \(fns)")
        }
        var field: FieldPath? = nil
        if let f = obj["field"] {
            field = fieldPath(f, "\(path).field")
        } else if let fn, fn != .count {
            report("\(path).field", "missing", "the numeric field that \(fn.rawValue) reads")
        }
        guard let name, Self.isValidName(name), let fn, fn == .count || field != nil else { return nil }
        if obj["field"] != nil && field == nil { return nil }
        return AggregateSpec(name: name, fn: fn, field: field)
    }

    // MARK: helpers

    mutating func object(_ json: JSONValue, _ path: String, allowed: [String], what: String) -> JSONValue? {
        guard case .object(let members) = json else {
            report(path, "\(describe(json)) is not an object", what)
            return nil
        }
        var seen: Set<String> = []
        for m in members {
            if !allowed.contains(m.key) {
                report(Self.memberPath(path, m.key), "unknown field", "one of \(allowed.joined(separator: ", "))")
            } else if !seen.insert(m.key).inserted {
                report(Self.memberPath(path, m.key), "given twice", "each field once")
            }
        }
        return json
    }

    mutating func requiredString(_ obj: JSONValue, _ key: String, _ path: String) -> String? {
        guard let v = obj[key] else { report("\(path).\(key)", "missing", "a string"); return nil }
        guard case .string(let s) = v, !s.isEmpty else {
            report("\(path).\(key)", "\(describe(v)) is not a non-empty string", "a string")
            return nil
        }
        return s
    }

    mutating func optionalString(_ obj: JSONValue, _ key: String, _ path: String) -> String? {
        guard obj[key] != nil else { return nil }
        return requiredString(obj, key, path)
    }

    mutating func requiredPath(_ obj: JSONValue, _ key: String, _ path: String) -> FieldPath? {
        guard let v = obj[key] else {
            report("\(path).\(key)", "missing", "a field path like \"total\" or \"customer.id\"")
            return nil
        }
        return fieldPath(v, "\(path).\(key)")
    }

    mutating func fieldPath(_ json: JSONValue, _ path: String) -> FieldPath? {
        guard case .string(let s) = json, let p = FieldPath(s) else {
            report(path, "\(describe(json)) is not a field path", "a field path like \"total\" or \"customer.id\" (dots reach nested objects)")
            return nil
        }
        return p
    }

    /// `s` as a JSON string literal (so a newline or a quote cannot break the one-line message),
    /// cut after 40 characters.
    func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(s.count > 40 ? String(s.prefix(40)) : s, to: &out)
        return String(decoding: out, as: UTF8.self) + (s.count > 40 ? "…" : "")
    }

    /// The JSON path of member `key` of the object at `path`: `$.key` for a plain identifier,
    /// else `$["key"]` with the key as a JSON string, so every path reads back unambiguously.
    static func memberPath(_ path: String, _ key: String) -> String {
        let b = key.utf8
        let plain = b.first.map { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F } == true
            && b.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }
        if plain { return "\(path).\(key)" }
        var out: [UInt8] = []
        JSONWriter.appendString(key, to: &out)
        return "\(path)[\(String(decoding: out, as: UTF8.self))]"
    }

    func describe(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? "\(Int64(n))" : "\(n)"
        case .string(let s): return quoted(s)
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}
