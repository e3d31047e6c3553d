import Foundation

/// An independent model of SPEC §3, written as plainly as possible: each event is parsed with
/// Foundation, the watermark is the largest valid time seen so far, and an event is added to every
/// window containing it that is still open, by a loop over windows (no slices).
struct ReferenceAggregator {
    struct Query {
        var name: String
        var filter: ([String: Any]) -> Bool
        var groupBy: [String]
        var timeField: String
        var timeInSeconds: Bool
        var size: Int64, slide: Int64, grace: Int64
        var numericField: String  // read by sum, avg, min and max
    }

    struct Acc: Equatable {
        var events = 0, present = 0
        var sum = 0.0, min = Double.infinity, max = -Double.infinity
    }

    let q: Query
    var watermark: Int64? = nil
    var windows: [String: Acc] = [:]  // "<key>|<start>"
    var outcomes: [String: Int] = [:]  // counted, filtered, late, or a reject reason

    init(_ q: Query) { self.q = q }

    static func lookup(_ obj: [String: Any], _ path: String) -> Any? {
        var cur: Any? = obj
        for part in path.split(separator: ".") {
            guard let d = cur as? [String: Any] else { return nil }
            cur = d[String(part)]
        }
        return cur
    }

    static func isBool(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return type(of: n) == type(of: NSNumber(value: true))
    }

    static func number(_ v: Any?) -> Double? {
        guard let v, !(v is NSNull), !isBool(v), let n = v as? NSNumber, !(v is String) else { return nil }
        return n.doubleValue
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        Int64((Double(a) / Double(b)).rounded(.down))
    }

    /// Every line's outcome, in order.
    var perLine: [String] = []

    mutating func add(_ line: String) {
        let outcome = classify(line)
        outcomes[outcome, default: 0] += 1
        perLine.append(outcome)
    }

    /// The windows closed by the final watermark, as the engine emits them.
    var closedWindows: [String: Acc] {
        guard let w = watermark else { return [:] }
        return windows.filter { id, _ in
            let start = Int64(id.split(separator: "|").last!)!
            return start + q.size + q.grace <= w
        }
    }

    mutating func classify(_ line: String) -> String {
        guard let any = try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) else {
            return "invalid_json"
        }
        guard let e = any as? [String: Any] else { return "not_an_object" }
        var time: Int64? = nil
        var timeReason = "missing_time"
        let tv = Self.lookup(e, q.timeField)
        if let tv, !(tv is NSNull) {
            if let n = Self.number(tv) {
                time = Int64((q.timeInSeconds ? n * 1000 : n).rounded())
            } else {
                timeReason = "invalid_time"
            }
        }
        if let time { watermark = max(watermark ?? time, time) }
        if !q.filter(e) { return "filtered" }
        guard let time else { return timeReason }
        var keyParts: [String] = []
        for path in q.groupBy {
            let v = Self.lookup(e, path)
            if v == nil || v is NSNull { return "missing_group_field" }
            if v is [Any] || v is [String: Any] { return "invalid_group_field" }
            keyParts.append("\(path)=\(Self.render(v!))")
        }
        let nv = Self.lookup(e, q.numericField)
        let value: Double?
        if nv == nil || nv is NSNull { value = nil } else {
            guard let n = Self.number(nv) else { return "non_numeric_value" }
            value = n
        }
        let key = keyParts.joined(separator: ",")
        var counted = false
        // Every window start s (a multiple of slide) with s <= time < s + size, still open.
        var s = Self.floorDiv(time, q.slide) * q.slide
        while s + q.size > time {
            if s + q.size + q.grace > watermark! {
                counted = true
                var acc = windows["\(key)|\(s)", default: Acc()]
                acc.events += 1
                if let value {
                    acc.present += 1
                    acc.sum += value
                    acc.min = Swift.min(acc.min, value)
                    acc.max = Swift.max(acc.max, value)
                }
                windows["\(key)|\(s)"] = acc
            }
            s -= q.slide
        }
        return counted ? "counted" : "late"
    }

    static func render(_ v: Any) -> String {
        if let s = v as? String { return "\"\(s)\"" }
        if isBool(v) { return (v as! NSNumber).boolValue ? "true" : "false" }
        let d = (v as! NSNumber).doubleValue
        return d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)"
    }
}
