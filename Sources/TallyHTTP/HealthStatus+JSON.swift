import Tally

extension HealthStatus {
    /// `{"status":…}`, with `"detail"` when there is one.
    var json: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        JSONBody.appendKey("status", first: true, to: &out)
        JSONWriter.appendString(status, to: &out)
        if let detail {
            JSONBody.appendKey("detail", to: &out)
            JSONWriter.appendString(detail, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
