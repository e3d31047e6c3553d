import Tally

extension QueryStatus {
    /// One element of `GET /queries`; with `includeDefinition`, the answer of `GET /queries/{name}`.
    /// `window` and `definition` are the engine's JSON text, embedded as JSON, not as strings.
    func appendJSON(includeDefinition: Bool = false, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        JSONBody.appendKey("name", first: true, to: &out)
        JSONWriter.appendString(name, to: &out)
        JSONBody.appendKey("source", to: &out)
        JSONWriter.appendString(source, to: &out)
        JSONBody.appendKey("window", to: &out)
        JSONBody.appendRaw(windowJSON, to: &out)
        JSONBody.appendKey("watermark", to: &out)
        JSONBody.appendOptional(watermark, to: &out)
        JSONBody.appendKey("events", to: &out)
        JSONWriter.appendInt(Int64(events), to: &out)
        JSONBody.appendKey("filtered", to: &out)
        JSONWriter.appendInt(Int64(filtered), to: &out)
        JSONBody.appendKey("late", to: &out)
        JSONWriter.appendInt(Int64(late), to: &out)
        JSONBody.appendKey("rejected", to: &out)
        JSONWriter.appendInt(Int64(rejected), to: &out)
        JSONBody.appendKey("rejectedBy", to: &out)
        out.append(UInt8(ascii: "{"))
        // Sorted, so the same counters always print the same text.
        for (i, (reason, count)) in rejectedBy.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(reason, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendInt(Int64(count), to: &out)
        }
        out.append(UInt8(ascii: "}"))
        JSONBody.appendKey("lastCheckpoint", to: &out)
        JSONBody.appendOptional(lastCheckpoint, to: &out)
        JSONBody.appendKey("partitions", to: &out)
        Self.appendList(partitions, to: &out)
        if !instances.isEmpty {
            JSONBody.appendKey("instances", to: &out)
            JSONBody.appendObjects(instances, to: &out) { instance, out in
                JSONBody.appendKey("http", first: true, to: &out)
                JSONWriter.appendString(instance.http, to: &out)
                JSONBody.appendKey("partitions", to: &out)
                Self.appendList(instance.partitions, to: &out)
            }
        }
        if includeDefinition {
            JSONBody.appendKey("definition", to: &out)
            JSONBody.appendRaw(definitionJSON, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A JSON list of partition numbers.
    static func appendList(_ partitions: [Int32], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, partition) in partitions.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendInt(Int64(partition), to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}

extension [QueryStatus] {
    /// The answer of `GET /queries`: a JSON list.
    var json: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, status) in enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            status.appendJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
