import Tally

extension KeyWindows {
    /// `{"query":…,"key":{…},"windows":[{"start":…,"end":…,"final":…,"values":{…}}]}`; `key` and
    /// `values` are the engine's JSON text, embedded as JSON.
    var json: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        JSONBody.appendKey("query", first: true, to: &out)
        JSONWriter.appendString(query, to: &out)
        JSONBody.appendKey("key", to: &out)
        JSONBody.appendRaw(keyJSON, to: &out)
        JSONBody.appendKey("windows", to: &out)
        JSONBody.appendObjects(windows, to: &out) { window, out in
            JSONBody.appendKey("start", first: true, to: &out)
            JSONWriter.appendInt(window.start, to: &out)
            JSONBody.appendKey("end", to: &out)
            JSONWriter.appendInt(window.end, to: &out)
            JSONBody.appendKey("final", to: &out)
            out.append(contentsOf: (window.isFinal ? "true" : "false").utf8)
            JSONBody.appendKey("values", to: &out)
            JSONBody.appendRaw(window.valuesJSON, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
