import Foundation

/// Broken events of every kind, interleaved with valid ones, each labelled with what each of the
/// two definitions of `BadInputCorpusTests` must do with it (SPEC §6, README "Events that cannot be
/// counted"). The labels follow the documented rules; the test compares the engine against them.
///
/// `bad_ms` groups by `customer_id`, reads time `ts` as epoch_ms and sums `total`; `bad_iso`
/// groups by `customer.id` and `region`, reads time `at` as ISO 8601 and averages `items`.
struct BadEventCorpus {
    enum Expect: Equatable {
        /// Counted under this group key (`bad_iso`: "id/region"), adding `total` to the sum.
        case counted(String, total: Double? = nil)
        case rejected(String)

        var reason: String? { if case .rejected(let r) = self { r } else { nil } }
    }

    struct Event {
        var kind: String
        var bytes: [UInt8]
        var ms: Expect
        var iso: Expect
    }

    /// 2025-11-24T16:00:00Z: every valid time of the corpus lies in the hour after it.
    static let base: Int64 = 1_764_000_000_000
    static let huge = String(repeating: "x", count: 200_000)

    private(set) var events: [Event] = []
    private var n = 0

    static func isoTime(_ t: Int64) -> String {
        let off = t - base
        return String(format: "2025-11-24T16:%02d:%02d.%03dZ", Int32(off / 60_000), Int32((off / 1000) % 60), Int32(off % 1000))
    }

    /// The members of a valid event number `i`, as raw JSON texts, in order.
    func members(_ i: Int) -> [(String, String)] {
        let t = Self.base + Int64(i)
        return [("customer_id", "\"c\(i % 3)\""), ("ts", "\(t)"), ("total", "2.5"),
                ("customer", "{\"id\":\"c\(i % 3)\"}"), ("region", "\"eu\""), ("at", "\"\(Self.isoTime(t))\""),
                ("items", "3")]
    }

    static func object(_ members: [(String, String)]) -> [UInt8] {
        Array(("{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}").utf8)
    }

    /// A valid event with `changes` applied: a member replaced (nil removes it), or appended when new.
    func event(_ i: Int, _ changes: [(String, String?)] = []) -> [UInt8] {
        var m = members(i)
        for (name, value) in changes {
            if let k = m.firstIndex(where: { $0.0 == name }) {
                if let value { m[k].1 = value } else { m.remove(at: k) }
            } else if let value {
                m.append((name, value))
            }
        }
        return Self.object(m)
    }

    var msKey: String { "c\(n % 3)" }
    var isoKey: String { "c\(n % 3)/eu" }

    /// Adds one event (number `n`), then a valid one, so valid events are interleaved throughout.
    mutating func add(_ kind: String, _ bytes: [UInt8], ms: Expect, iso: Expect) {
        events.append(Event(kind: kind, bytes: bytes, ms: ms, iso: iso))
        n += 1
        events.append(Event(kind: "valid", bytes: event(n), ms: .counted(msKey, total: 2.5), iso: .counted(isoKey)))
        n += 1
    }

    /// Both definitions reject it for the same reason.
    mutating func both(_ kind: String, _ bytes: [UInt8], _ reason: String) {
        add(kind, bytes, ms: .rejected(reason), iso: .rejected(reason))
    }

    /// Only `ms` cares (the changed field is not read by `bad_iso`, which counts it).
    mutating func msOnly(_ kind: String, _ changes: [(String, String?)], _ ms: Expect) {
        add(kind, event(n, changes), ms: ms, iso: .counted(isoKey))
    }

    /// Only `iso` cares.
    mutating func isoOnly(_ kind: String, _ changes: [(String, String?)], _ iso: Expect) {
        add(kind, event(n, changes), ms: .counted(msKey, total: 2.5), iso: iso)
    }

    /// Everything; `lineSafe` leaves out what a JSON Lines file cannot carry (newlines, empty lines).
    static func make(lineSafe: Bool = false) -> BadEventCorpus {
        var c = BadEventCorpus()
        let valid = c.event(0)
        // Not JSON at all, or truncated.
        for cut in [1, 2, valid.count / 2, valid.count - 1] {
            c.both("truncated at \(cut)", Array(valid.prefix(cut)), "invalid_json")
        }
        c.both("unterminated huge string", Array("{\"note\":\"\(huge)".utf8), "invalid_json")
        if !lineSafe {
            c.both("empty payload", [], "invalid_json")
            c.both("raw newline inside a string", Array("{\"note\":\"a\nb\"}".utf8), "invalid_json")
        }
        c.both("only spaces", Array("   ".utf8), "invalid_json")
        c.both("single quotes", Array("{'customer_id':'c1'}".utf8), "invalid_json")
        c.both("NaN", c.event(c.n, [("total", "NaN")]), "invalid_json")
        c.both("binary garbage", [0x01, 0x02, 0xFF, 0x00, 0x7B], "invalid_json")
        // Valid JSON, not an object.
        for text in ["[]", "[1,2]", "\"str\"", "42", "-0.5e3", "null", "true", "[{\"customer_id\":\"c1\"}]"] {
            c.both("not an object: \(text)", Array(text.utf8), "not_an_object")
        }
        // Nesting beyond the scanner's 512 levels, and deep but within it (counted).
        c.both("601 levels", c.event(c.n, [("note", String(repeating: "[", count: 600) + String(repeating: "]", count: 600))]), "invalid_json")
        c.both("513 levels of objects", c.event(c.n, [("note", String(repeating: "{\"a\":", count: 512) + "1" + String(repeating: "}", count: 512))]), "invalid_json")
        c.add("400 levels (within the limit)", c.event(c.n, [("note", String(repeating: "[", count: 400) + String(repeating: "]", count: 400))]),
              ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        // Huge strings: ignored (counted), as a number field (rejected).
        c.add("200 KB ignored string", c.event(c.n, [("note", "\"\(huge)\"")]), ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        c.msOnly("200 KB string as total", [("total", "\"\(huge)\"")], .rejected("non_numeric_value"))
        // Invalid UTF-8 and other string breakage.
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xC3], [0xF4, 0x90, 0x80, 0x80]] {
            let hex = bad.map { String($0, radix: 16) }.joined(separator: " ")
            c.both("invalid UTF-8 \(hex) in a value", Array("{\"customer_id\":\"c".utf8) + bad + Array("\",\"ts\":\(base)}".utf8), "invalid_json")
        }
        c.both("invalid UTF-8 in a member name", Array("{\"n".utf8) + [0xFE] + Array("\":1,\"customer_id\":\"c1\"}".utf8), "invalid_json")
        c.both("raw control character", c.event(c.n, [("note", "\"a\u{1}b\"")]), "invalid_json")
        c.both("lone surrogate escape", c.event(c.n, [("note", #""\ud800""#)]), "invalid_json")
        // Numbers out of range are not JSON numbers here (README): the event is invalid.
        c.both("total 1e400", c.event(c.n, [("total", "1e400")]), "invalid_json")
        c.both("ts -1e400", c.event(c.n, [("ts", "-1e400")]), "invalid_json")
        c.both("ignored field 1e999", c.event(c.n, [("note", "1e999")]), "invalid_json")
        // Wrong types, epoch_ms time.
        c.msOnly("ts missing", [("ts", nil)], .rejected("missing_time"))
        c.msOnly("ts null", [("ts", "null")], .rejected("missing_time"))
        for bad in ["\"1764000000000\"", "true", "{}", "[1764000000000]", "1e300", "-1e16"] {
            c.msOnly("ts \(bad)", [("ts", bad)], .rejected("invalid_time"))
        }
        c.msOnly("ts in exponent form", [("ts", "1.7640000000125e12")], .counted(c.msKey, total: 2.5))
        // Wrong types, iso8601 time.
        c.isoOnly("at missing", [("at", nil)], .rejected("missing_time"))
        c.isoOnly("at null", [("at", "null")], .rejected("missing_time"))
        for bad in ["\"2025-13-01T00:00:00Z\"", "\"2025-02-30T00:00:00Z\"", "\"2025-11-24T16:00:00\"", "\"\"",
                    "\"2025-11-24T16:00:00.123Zjunk\"", "\"yesterday\"", "1764000000000", "{\"t\":1}", "false"] {
            c.isoOnly("at \(bad)", [("at", bad)], .rejected("invalid_time"))
        }
        c.isoOnly("at with an offset", [("at", "\"2025-11-24T17:00:00.005+01:00\"")], .counted(c.isoKey))
        c.isoOnly("at with an escaped dot", [("at", #""2025-11-24T16:00:01\u002e500Z""#)], .counted(c.isoKey))
        // Wrong types, group fields.
        c.msOnly("customer_id missing", [("customer_id", nil)], .rejected("missing_group_field"))
        c.msOnly("customer_id null", [("customer_id", "null")], .rejected("missing_group_field"))
        c.msOnly("customer_id object", [("customer_id", "{\"id\":1}")], .rejected("invalid_group_field"))
        c.msOnly("customer_id list", [("customer_id", "[\"c1\"]")], .rejected("invalid_group_field"))
        c.msOnly("customer_id number", [("customer_id", "42")], .counted("42", total: 2.5))
        c.msOnly("customer_id escaped", [("customer_id", #""c\u0031""#)], .counted("c1", total: 2.5))
        c.msOnly("customer_id zero", [("customer_id", "0")], .counted("0", total: 2.5))
        c.msOnly("customer_id minus zero", [("customer_id", "-0.0")], .counted("0", total: 2.5))
        c.msOnly("customer_id with a slash and accents", [("customer_id", "\"é/ü\"")], .counted("é/ü", total: 2.5))
        c.msOnly("customer_id of 200 KB", [("customer_id", "\"\(huge)\"")], .counted(huge, total: 2.5))
        c.isoOnly("customer not an object", [("customer", "\"c1\"")], .rejected("missing_group_field"))
        c.isoOnly("customer.id null", [("customer", "{\"id\":null}")], .rejected("missing_group_field"))
        c.isoOnly("customer.id object", [("customer", "{\"id\":{}}")], .rejected("invalid_group_field"))
        c.isoOnly("region list", [("region", "[\"eu\"]")], .rejected("invalid_group_field"))
        // Wrong types, numeric aggregate fields.
        for bad in ["\"12.5\"", "true", "{}", "[2.5]"] {
            c.msOnly("total \(bad)", [("total", bad)], .rejected("non_numeric_value"))
            c.isoOnly("items \(bad)", [("items", bad)], .rejected("non_numeric_value"))
        }
        c.msOnly("total null (skipped)", [("total", "null")], .counted(c.msKey))
        c.msOnly("total missing (skipped)", [("total", nil)], .counted(c.msKey))
        // Empty objects.
        c.both("empty object", Array("{}".utf8), "missing_time")
        c.both("empty object with spaces", Array(" { } ".utf8), "missing_time")
        // Duplicate keys: the last one counts.
        c.add("duplicate customer_id", Array(String(decoding: c.event(c.n), as: UTF8.self).dropLast().utf8) + Array(",\"customer_id\":\"dup\"}".utf8),
              ms: .counted("dup", total: 2.5), iso: .counted(c.isoKey))
        c.add("duplicate ts, bad then good", Array("{\"ts\":\"soon\",\"customer_id\":\"dup\",\"ts\":\(base + 7),\"customer\":{\"id\":\"d\"},\"region\":\"x\",\"at\":\"\(isoTime(base + 7))\"}".utf8),
              ms: .counted("dup"), iso: .counted("d/x"))
        c.add("duplicate ts, good then bad", Array("{\"ts\":\(base + 8),\"customer_id\":\"dup\",\"ts\":\"soon\",\"customer\":{\"id\":\"d\"},\"region\":\"x\",\"at\":\"\(isoTime(base + 8))\"}".utf8),
              ms: .rejected("invalid_time"), iso: .counted("d/x"))
        c.add("duplicate total, string then number", Array("{\"total\":\"x\",\"customer_id\":\"dup\",\"total\":5,\"ts\":\(base + 9),\"customer\":{\"id\":\"d\"},\"region\":\"x\",\"at\":\"\(isoTime(base + 9))\"}".utf8),
              ms: .counted("dup", total: 5), iso: .counted("d/x"))
        c.add("duplicate customer, then empty", Array("{\"customer\":{\"id\":\"d\"},\"customer_id\":\"dup\",\"ts\":\(base + 10),\"region\":\"x\",\"customer\":{},\"at\":\"\(isoTime(base + 10))\"}".utf8),
              ms: .counted("dup"), iso: .rejected("missing_group_field"))
        c.add("duplicate customer.id, then an object", Array("{\"customer\":{\"id\":\"d\",\"id\":{\"x\":1}},\"customer_id\":\"dup\",\"ts\":\(base + 11),\"region\":\"x\",\"at\":\"\(isoTime(base + 11))\"}".utf8),
              ms: .counted("dup"), iso: .rejected("invalid_group_field"))
        // Byte-order marks, whitespace and trailing bytes.
        c.add("leading BOM", [0xEF, 0xBB, 0xBF] + c.event(c.n), ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        c.both("two BOMs", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + c.event(c.n), "invalid_json")
        c.both("BOM after a space", [0x20, 0xEF, 0xBB, 0xBF] + c.event(c.n), "invalid_json")
        c.add("surrounding spaces and tabs", Array(" \t".utf8) + c.event(c.n) + Array("\t ".utf8), ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        c.add("one trailing comma", Array(String(decoding: c.event(c.n), as: UTF8.self).dropLast().utf8) + Array(",}".utf8),
              ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        c.both("two trailing commas", Array(String(decoding: c.event(c.n), as: UTF8.self).dropLast().utf8) + Array(",,}".utf8), "invalid_json")
        for junk in [" x", "}", "{}", ",", "\u{0}", " 1"] {
            c.both("trailing \(junk.debugDescription)", c.event(c.n) + Array(junk.utf8), "invalid_json")
        }
        if !lineSafe {
            c.add("trailing newline", c.event(c.n) + [0x0A], ms: .counted(c.msKey, total: 2.5), iso: .counted(c.isoKey))
        }
        return c
    }
}
