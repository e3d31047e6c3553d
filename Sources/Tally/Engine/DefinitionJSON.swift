/// A definition written back as JSON (for `GET /queries/{name}`), and its window alone.
enum DefinitionJSON {
    static func window(_ w: WindowSpec) -> String {
        var s = "{\"type\":\"\(w.isSliding ? "sliding" : "tumbling")\",\"size\":\"\(TimeSpan.format(w.size))\""
        if w.isSliding { s += ",\"slide\":\"\(TimeSpan.format(w.slide))\"" }
        return s + ",\"grace\":\"\(TimeSpan.format(w.grace))\"}"
    }

    static func string(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func literal(_ l: Literal) -> String {
        switch l {
        case .string(let b): return string(String(decoding: b, as: UTF8.self))
        case .number(let n):
            var out: [UInt8] = []
            JSONWriter.appendNumber(n, to: &out)
            return String(decoding: out, as: UTF8.self)
        case .bool(let b): return b ? "true" : "false"
        }
    }

    static func render(_ d: Definition) -> String {
        let filters = d.filters.map { p -> String in
            var s = "{\"field\":\(string(p.field.text)),\"op\":\"\(p.op.rawValue)\""
            switch p.op {
            case .exists: break
            case .in: s += ",\"value\":[" + p.values.map(literal).joined(separator: ",") + "]"
            default: s += ",\"value\":" + literal(p.values[0])
            }
            return s + "}"
        }
        let aggs = d.aggregates.map { a in
            "{\"name\":\(string(a.name)),\"fn\":\"\(a.fn.rawValue)\"" + (a.field.map { ",\"field\":\(string($0.text))" } ?? "") + "}"
        }
        var s = "{\"name\":\(string(d.name)),\"source\":\(string(d.source))"
        if !filters.isEmpty { s += ",\"where\":[" + filters.joined(separator: ",") + "]" }
        s += ",\"groupBy\":[" + d.groupBy.map { string($0.text) }.joined(separator: ",") + "]"
        if let t = d.time { s += ",\"time\":{\"field\":\(string(t.field.text)),\"format\":\"\(t.format.rawValue)\"}" }
        s += ",\"window\":" + window(d.window)
        s += ",\"aggregates\":[" + aggs.joined(separator: ",") + "]"
        s += ",\"emit\":\"\(d.emit.rawValue)\",\"output\":\(string(d.output)),\"deadLetter\":\(string(d.deadLetter))"
        return s + (d.repartition ? ",\"repartition\":true}" : "}")
    }
}
