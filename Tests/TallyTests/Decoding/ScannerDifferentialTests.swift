import Foundation
import Testing
@testable import Tally

/// Differential test: `EventScanner` against Foundation's `JSONSerialization` over generated and
/// mutated JSON, random bytes and mutated order events (`ScannerDifferentialTests+Inputs.swift`). The verdict (valid or not) must agree on every input, and every planned field of
/// a valid object must equal what Foundation parsed.
///
/// `TALLY_FUZZ_CASES` sets the number of inputs (default 20,000), `TALLY_FUZZ_SEED` the seed.
@Suite struct ScannerDifferentialTests {

    /// The tests' one SplitMix64 generator (TallyBinary.swift).
    typealias SplitMix64 = SplitMix

    static let keyWords = ["a", "b", "c", "id", "v", "customer", "k", "ts"]
    static let planPaths = [
        "a", "b", "c", "id", "v", "ts", "customer", "customer.id", "customer.v", "a.b", "a.b.c", "b.a", "c.id",
        "k", "k.a.b", "a.a.a",
    ]

    /// Builds one JSON text.
    struct Generator {
        var rng: SplitMix64
        var out: [UInt8] = []

        mutating func emit(_ s: String) { out += Array(s.utf8) }

        mutating func ws() {
            guard rng.chance(0.25) else { return }
            for _ in 0..<rng.int(1...3) { out.append(rng.pick([0x20, 0x09, 0x0A, 0x0D])) }
        }

        mutating func hex4(_ v: UInt32) {
            let digits = rng.chance(0.5) ? Array("0123456789abcdef".utf8) : Array("0123456789ABCDEF".utf8)
            for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        }

        mutating func key() {
            if rng.chance(0.85) {
                let word = rng.pick(ScannerDifferentialTests.keyWords)
                out.append(0x22)
                for b in word.utf8 {
                    if rng.chance(0.1) { emit("\\u"); hex4(UInt32(b)) } else { out.append(b) }
                }
                out.append(0x22)
            } else {
                string()
            }
        }

        mutating func scalarUTF8(_ v: UInt32) {
            out += Array(String(Unicode.Scalar(v)!).utf8)
        }

        mutating func string() {
            out.append(0x22)
            for _ in 0..<rng.int(0...10) {
                switch rng.below(10) {
                case 0...4:
                    var c = UInt8(rng.int(0x20...0x7E))
                    if c == 0x22 || c == 0x5C { c = 0x61 }
                    out.append(c)
                case 5:
                    emit(rng.pick(["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]))
                case 6:
                    var v = UInt32(rng.pick([rng.int(0...0x7F), rng.int(0x80...0x7FF), rng.int(0x800...0xFFFF)]))
                    if (0xD800...0xDFFF).contains(v) { v = 0xE9 }
                    emit("\\u"); hex4(v)
                case 7:
                    let s = UInt32(rng.int(0x10000...0x10FFFF)) - 0x10000
                    emit("\\u"); hex4(0xD800 + (s >> 10)); emit("\\u"); hex4(0xDC00 + (s & 0x3FF))
                case 8:
                    var v = UInt32(rng.pick([rng.int(0x80...0x7FF), rng.int(0x800...0xFFFF)]))
                    if (0xD800...0xDFFF).contains(v) { v = 0x20AC }
                    scalarUTF8(v)
                default:
                    scalarUTF8(UInt32(rng.int(0x10000...0x10FFFF)))
                }
            }
            out.append(0x22)
        }

        mutating func digits(_ n: Int, leadingNonZero: Bool) {
            for i in 0..<n { out.append(UInt8(0x30 + (i == 0 && leadingNonZero ? rng.int(1...9) : rng.int(0...9)))) }
        }

        mutating func number() {
            if rng.chance(0.3) { out.append(0x2D) }
            switch rng.below(10) {
            case 0: out.append(0x30)
            case 1...4: digits(rng.int(1...6), leadingNonZero: true)
            case 5, 6: digits(rng.int(15...20), leadingNonZero: true)
            default: digits(rng.int(21...45), leadingNonZero: true)
            }
            if rng.chance(0.4) {
                out.append(0x2E)
                digits(rng.pick([rng.int(1...4), rng.int(5...20), rng.int(21...50)]), leadingNonZero: false)
            }
            if rng.chance(0.35) {
                out.append(rng.pick([0x65, 0x45]))
                if rng.chance(0.6) { out.append(rng.pick([0x2B, 0x2D])) }
                let e = rng.pick([rng.int(0...30), rng.int(0...30), rng.int(280...330), rng.int(300...420)])
                if rng.chance(0.1) { out.append(0x30) }
                emit(String(e))
            }
        }

        mutating func value(depth: Int) {
            ws()
            let maxDepth = 5
            switch rng.below(20) {
            case 0...3 where depth < maxDepth: object(depth: depth + 1)
            case 4...5 where depth < maxDepth: array(depth: depth + 1)
            case 0...9: string()
            case 10...15: number()
            case 16: emit("true")
            case 17: emit("false")
            default: emit("null")
            }
            ws()
        }

        mutating func object(depth: Int) {
            out.append(0x7B)
            ws()
            let n = rng.pick([0, rng.int(1...3), rng.int(1...7)])
            for i in 0..<n {
                if i > 0 { out.append(0x2C); ws() }
                key(); ws(); out.append(0x3A); value(depth: depth)
            }
            out.append(0x7D)
        }

        mutating func array(depth: Int) {
            out.append(0x5B)
            let n = rng.pick([0, rng.int(1...4)])
            if n == 0 { ws() }
            for i in 0..<n {
                if i > 0 { out.append(0x2C) }
                value(depth: depth)
            }
            out.append(0x5D)
        }

        mutating func document() -> [UInt8] {
            out = []
            ws()
            if rng.chance(0.9) { object(depth: 1) } else { value(depth: 0) }
            ws()
            return out
        }
    }

    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xE0, 0x80, 0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8], [0xFE],
        [0xFF], [0xC3, 0x28], [0xF0, 0x9F, 0x98],
    ]

    static let interestingBytes: [UInt8] = Array("{}[]\",:\\/-+.eE0123456789tfnu ".utf8) + [0x09, 0x0A, 0x0D, 0x01, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]

    static func mutate(_ doc: [UInt8], _ g: inout Generator) -> [UInt8] {
        var d = doc
        let pos = { (rng: inout SplitMix64, count: Int) -> Int in rng.below(count + 1) }
        switch g.rng.below(16) {
        case 0:  // truncate
            d = Array(d.prefix(g.rng.below(max(d.count, 1))))
        case 1:  // replace a byte
            if !d.isEmpty {
                d[g.rng.below(d.count)] = g.rng.chance(0.5) ? g.rng.pick(interestingBytes) : UInt8(truncatingIfNeeded: g.rng.next())
            }
        case 2:  // insert a byte
            d.insert(g.rng.chance(0.7) ? g.rng.pick(interestingBytes) : UInt8(truncatingIfNeeded: g.rng.next()), at: pos(&g.rng, d.count))
        case 3:  // delete a byte
            if !d.isEmpty { d.remove(at: g.rng.below(d.count)) }
        case 4:  // invalid UTF-8, preferably inside a string
            let quotes = d.indices.filter { d[$0] == 0x22 }
            let at = quotes.isEmpty || g.rng.chance(0.2) ? pos(&g.rng, d.count) : g.rng.pick(quotes) + 1
            d.insert(contentsOf: g.rng.pick(invalidUTF8), at: min(at, d.count))
        case 5:  // deep nesting around the document
            let n = g.rng.int(500...514)
            if g.rng.chance(0.5) {
                d = [UInt8](repeating: 0x5B, count: n) + d + [UInt8](repeating: 0x5D, count: n)
            } else {
                d = Array(String(repeating: #"{"a":"#, count: n).utf8) + d + [UInt8](repeating: 0x7D, count: n)
            }
        case 6:  // deep nesting around a scalar, right at the limit
            let n = g.rng.int(509...514)
            let leaf = g.rng.pick(["1", "[]", "{}", #""s""#, "null"])
            if g.rng.chance(0.5) {
                d = Array((String(repeating: "[", count: n - 1) + "[" + leaf + String(repeating: "]", count: n)).utf8)
            } else {
                d = Array((String(repeating: #"{"a":"#, count: n) + leaf + String(repeating: "}", count: n)).utf8)
            }
        case 7:  // trailing comma before a closing bracket, or an empty one
            let closers = d.indices.filter { d[$0] == 0x7D || d[$0] == 0x5D }
            if let c = closers.isEmpty ? nil : g.rng.pick(closers) {
                d.insert(contentsOf: g.rng.chance(0.8) ? [0x2C] : [0x2C, 0x2C], at: c)
            } else {
                d = Array(g.rng.pick(["[,]", "{,}", "[1,]", #"{"a":1,}"#, "[,1]"]).utf8)
            }
        case 8:  // duplicate key at the top level
            if d.first == 0x7B || d.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }).first == 0x7B {
                var member = Generator(rng: g.rng)
                member.key(); member.out.append(0x3A); member.value(depth: 3)
                g.rng = member.rng
                let open = d.firstIndex(of: 0x7B)!
                if let close = d.lastIndex(of: 0x7D), g.rng.chance(0.6) {
                    let empty = d[(open + 1)..<close].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
                    d.insert(contentsOf: (empty ? [] : [0x2C]) + member.out, at: close)
                } else {
                    let empty = d[(open + 1)...].drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }).first == 0x7D
                    d.insert(contentsOf: member.out + (empty ? [] : [0x2C]), at: open + 1)
                }
            }
        case 9:  // lone or broken surrogate escapes
            let quotes = d.indices.filter { d[$0] == 0x22 }
            let at = quotes.isEmpty ? pos(&g.rng, d.count) : g.rng.pick(quotes) + 1
            let s = g.rng.pick([#"\ud800"#, #"\udc00"#, #"\uDBFF"#, #"\ud83d\u0041"#, #"\ude00\ud83d"#, #"\ud83d\ud83d"#, #"\ud83d"#])
            d.insert(contentsOf: Array(s.utf8), at: min(at, d.count))
        case 10:  // trailing data
            d += Array(g.rng.pick([" x", "}", "]", ",", " 1", "{}", "\u{0}", " \u{0C}", "\n\n", " ", "/", "\t\r\n "]).utf8)
        case 11:  // byte order mark
            d = [0xEF, 0xBB, 0xBF] + d
        case 12:  // control character, preferably inside a string
            let quotes = d.indices.filter { d[$0] == 0x22 }
            let at = quotes.isEmpty ? pos(&g.rng, d.count) : g.rng.pick(quotes) + 1
            d.insert(UInt8(g.rng.int(0x01...0x1F)), at: min(at, d.count))
        case 13:  // whitespace JSON does not allow
            let w: [[UInt8]] = [[0x0C], [0x0B], [0xC2, 0xA0], [0xE2, 0x80, 0xA8]]
            d.insert(contentsOf: g.rng.pick(w), at: pos(&g.rng, d.count))
        case 14:  // bad escape or bad \u
            let quotes = d.indices.filter { d[$0] == 0x22 }
            let at = quotes.isEmpty ? pos(&g.rng, d.count) : g.rng.pick(quotes) + 1
            let s = g.rng.pick([#"\x"#, #"\U0041"#, #"\u00g1"#, #"\u12"#, #"\'"#, #"\a"#, "\\\u{0}", #"\u00E9"#, #"\/"#])
            d.insert(contentsOf: Array(s.utf8), at: min(at, d.count))
        default:  // a number in a shape of its own
            var n = Generator(rng: g.rng)
            n.out = []
            n.emit(n.rng.pick(["1.", ".5", "01", "-", "-01", "1e", "1e+", "+1", "0x1", "1.5e308", "2e308", "1e-400",
                               "-0.0", "1E400", "00", "1.0e-324", "4.9e-324", "1_0", "Infinity", "NaN", "-0e-0"]))
            g.rng = n.rng
            d = Array(#"{"v":"#.utf8) + n.out + Array(#","a":1}"#.utf8)
        }
        return d
    }

    /// Inputs that Foundation would read as UTF-16 or UTF-32 (BOM or NUL bytes at the start) are
    /// outside what an event scanner is for.
    static func looksLikeOtherEncoding(_ d: [UInt8]) -> Bool {
        if d.prefix(4).contains(0) { return true }
        if d.count >= 2 && ((d[0] == 0xFE && d[1] == 0xFF) || (d[0] == 0xFF && d[1] == 0xFE)) { return true }
        return false
    }

    /// Foundation's value as an `Extracted`.
    static func classify(_ v: Any) -> (Extracted, isDecimal: Bool) {
        if v is NSNull { return (.null, false) }
        if let s = v as? String { return (.string(Array(s.utf8)), false) }
        if v is [String: Any] { return (.object, false) }
        if v is [Any] { return (.array, false) }
        if let n = v as? NSNumber {
            if type(of: n) == type(of: NSNumber(value: true)) || String(describing: type(of: n)).contains("Boolean") {
                return (.bool(n.boolValue), false)
            }
            // NSDecimalNumber (mantissas beyond 64 bits) converts to Double imprecisely (seen: 1e-15
            // relative off); its exact decimal text, correctly rounded by Swift, is the better oracle.
            if let d = n as? NSDecimalNumber, let exact = Double(d.stringValue) { return (.number(exact), true) }
            return (.number(n.doubleValue), false)
        }
        return (.string(Array("<unknown \(type(of: v))>".utf8)), false)
    }

    static func foundationField(_ root: [String: Any], _ path: FieldPath) -> (Extracted, isDecimal: Bool) {
        var current: Any = root
        for seg in path.segments {
            guard let obj = current as? [String: Any], let next = obj[String(decoding: seg, as: UTF8.self)] else {
                return (.missing, false)
            }
            current = next
        }
        return classify(current)
    }

    static func agree(_ ours: Extracted, _ theirs: Extracted, decimal: Bool) -> Bool {
        if case .number(let a) = ours, case .number(let b) = theirs, decimal {
            // Decimal keeps 38 significant digits, so its text can round to the neighbouring
            // Double of ours; allow one unit in the last place (far below the 1e-15 relative the brief allows).
            return a == b || abs(a - b) <= max(abs(a).ulp, abs(b).ulp)
        }
        return ours == theirs
    }

    /// Foundation drops a raw U+FEFF (EF BB BF) at the start of a string or right after an escape
    /// (`"\n\u{FEFF}z"` gives "\nz"); the scanner keeps it, as RFC 8259 asks. True when the two
    /// strings differ only in such characters.
    static func differOnlyInByteOrderMarks(_ ours: Extracted, _ theirs: Extracted) -> Bool {
        guard case .string(let a) = ours, case .string(let b) = theirs, a != b else { return false }
        func strip(_ x: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            var i = 0
            while i < x.count {
                if i + 2 < x.count && x[i] == 0xEF && x[i + 1] == 0xBB && x[i + 2] == 0xBF { i += 3; continue }
                out.append(x[i])
                i += 1
            }
            return out
        }
        return a.count > b.count && strip(a) == strip(b)
    }

    struct Counts {
        var compared = 0, skipped = 0, validObjects = 0, notObjects = 0, invalid = 0, fieldsPresent = 0
        /// Inputs Foundation accepts only because the out-of-range number sits in a replaced duplicate.
        var lazyNumbers = 0
        /// Strings in which Foundation dropped a U+FEFF that the scanner kept.
        var droppedByteOrderMarks = 0
        var mismatches: [String] = []
    }

    static func sameJSON(_ a: Any, _ b: Any) -> Bool {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
        guard let x = try? JSONSerialization.data(withJSONObject: a, options: options),
            let y = try? JSONSerialization.data(withJSONObject: b, options: options)
        else { return false }
        return x == y
    }

    /// `bytes` with the number starting at `offset` replaced by `0`.
    static func neutralizeNumber(_ bytes: [UInt8], at offset: Int) -> [UInt8]? {
        guard offset < bytes.count else { return nil }
        var end = offset
        while end < bytes.count, Array("+-.eE0123456789".utf8).contains(bytes[end]) { end += 1 }
        guard end > offset else { return nil }
        var out = bytes
        out.replaceSubrange(offset..<end, with: [0x30])
        return out
    }

    static func check(_ input: [UInt8], scanner: EventScanner, into t: inout Counts, counted: Bool = true) {
        if counted { t.compared += 1 }
        var patched: [UInt8]? = nil
        let theirs = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])
        let problem: String? = input.withUnsafeBytes { raw in
            scanner.scan(raw) { outcome, view -> String? in
                switch (outcome, theirs) {
                case (.invalid(let f), nil):
                    t.invalid += 1
                    _ = f
                    return nil
                case (.invalid(let f), .some(let v)):
                    // Foundation converts numbers only for values it keeps: an out-of-range number
                    // in a value that a later duplicate key replaces is accepted (`{"a":1e400,"a":1}`).
                    // Recognised by writing 0 over the number: Foundation must then give the very same result.
                    if f.reason == .numberOutOfRange, let p = neutralizeNumber(input, at: f.offset),
                        let v2 = try? JSONSerialization.jsonObject(with: Data(p), options: [.fragmentsAllowed]),
                        sameJSON(v, v2) {
                        patched = p
                        return nil
                    }
                    return "we reject (\(f)), Foundation accepts"
                case (_, nil):
                    return "we accept (\(outcome)), Foundation rejects"
                case (.notAnObject, .some(let v)):
                    t.notObjects += 1
                    return v is [String: Any] ? "we say not an object, Foundation parsed an object" : nil
                case (.object, .some(let v)):
                    guard let root = v as? [String: Any] else { return "we say object, Foundation gives \(type(of: v))" }
                    t.validObjects += 1
                    for (slot, path) in scanner.plan.paths.enumerated() {
                        let ours = extracted(view, slot)
                        let (expected, decimal) = foundationField(root, path)
                        if expected != .missing { t.fieldsPresent += 1 }
                        if differOnlyInByteOrderMarks(ours, expected) {
                            t.droppedByteOrderMarks += 1
                        } else if !agree(ours, expected, decimal: decimal) {
                            return "field \(path): ours \(ours), Foundation \(expected)\(decimal ? " (decimal)" : "")"
                        }
                    }
                    return nil
                }
            }
        }
        if let problem, t.mismatches.count < 20 {
            t.mismatches.append("\(problem)\n  input (\(input.count) bytes): \(escapedBytes(input))")
        }
        if let patched {
            t.lazyNumbers += 1
            check(patched, scanner: scanner, into: &t, counted: false)
        }
    }

    static var caseCount: Int {
        ProcessInfo.processInfo.environment["TALLY_FUZZ_CASES"].flatMap { Int($0) } ?? 20_000
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["TALLY_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x7A11_7E57
    }

    @Test func scannerAgreesWithFoundationOnGeneratedAndMutatedInputs() {
        let scanner = EventScanner(plan: FieldPlan((Self.planPaths + Self.orderPaths).map { FieldPath($0)! }))
        var g = Generator(rng: SplitMix64(state: Self.seed))
        var t = Counts()
        let clock = ContinuousClock()
        let started = clock.now
        while t.compared < Self.caseCount {
            let input = Self.nextInput(&g)
            if Self.looksLikeOtherEncoding(input) { t.skipped += 1; continue }
            Self.check(input, scanner: scanner, into: &t)
        }
        let elapsed = clock.now - started
        print("""
            scanner differential: \(t.compared) inputs (seed \(Self.seed)) in \(elapsed): \(t.validObjects) objects, \
            \(t.notObjects) other values, \(t.invalid) invalid, \(t.fieldsPresent) fields compared, \
            \(t.skipped) skipped as non-UTF-8 encodings, \
            \(t.lazyNumbers) rejected by us for an out-of-range number in a value Foundation discards (duplicate key), \
            \(t.droppedByteOrderMarks) strings where Foundation dropped a U+FEFF
            """)
        for m in t.mismatches { Issue.record("mismatch: \(m)") }
        #expect(t.mismatches.isEmpty)
        // The generator must exercise both sides, or agreement means little.
        #expect(t.validObjects > t.compared / 5)
        #expect(t.invalid > t.compared / 5)
        #expect(t.fieldsPresent > t.validObjects)
    }

    /// Hand-picked inputs at the edges of what Foundation accepts, checked the same way.
    @Test(arguments: [
        "[1,]", #"{"a":1,}"#, "[,]", "{,}", "\u{FEFF}{}", "01", "-0", "1.", "1e400", "1e-400", #"{"a":1,"a":1e400}"#, #"{"a":"\ud800","a":1}"#, "-1e-400",
        "18446744073709551616", "123456789012345678901234567890", "0.123456789012345678901234567890123456789",
        #""\ud800""#, #""\udc00""#, #""\ud83d\ude00""#, "\"\u{7F}\"", #"{"a":{"b":1},"a":5}"#, #"{"a":"\u0000"}"#,
        " ", "", "nul", "[1 2]", #"{"a" : [ ] , "b" : { } }"#,
    ])
    func edgeCasesAgreeWithFoundation(input: String) {
        let scanner = EventScanner(plan: FieldPlan(Self.planPaths.map { FieldPath($0)! }))
        var t = Counts()
        Self.check(Array(input.utf8), scanner: scanner, into: &t)
        #expect(t.mismatches.isEmpty, "\(t.mismatches)")
    }

    /// The one known divergence: Foundation never converts a value that a later duplicate key
    /// replaces, so it accepts an out-of-range number there; the scanner validates every number.
    @Test func outOfRangeNumberInAReplacedDuplicateIsRejectedThoughFoundationAcceptsIt() {
        for text in [#"{"a":1e400,"a":1}"#, #"{"a":{"b":-2e308},"a":1}"#, #"{"a":[1e999],"a":null}"#] {
            let input = Array(text.utf8)
            let foundation = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])
            #expect(foundation != nil, "Foundation now rejects \(text); the differential special case can go")
            #expect(failureReason(input) == .numberOutOfRange, "\(text)")
        }
    }

    /// Second known divergence: Foundation loses a raw U+FEFF at the start of a string or after an
    /// escape; the scanner keeps every character.
    @Test func rawByteOrderMarkInsideAStringIsKeptThoughFoundationDropsIt() {
        let input: [UInt8] = Array(#"{"a":"\n"#.utf8) + [0xEF, 0xBB, 0xBF] + Array(#"z"}"#.utf8)
        let foundation = (try? JSONSerialization.jsonObject(with: Data(input))) as? [String: Any]
        let theirs = (foundation?["a"] as? String).map { Array($0.utf8) }
        #expect(theirs == [0x0A, 0x7A], "Foundation now keeps U+FEFF; the differential special case can go")
        #expect(scanEvent(input, paths: ["a"]).1 == [.string([0x0A, 0xEF, 0xBB, 0xBF, 0x7A])])
    }

    @Test func depthLimitAgreesWithFoundation() {
        let scanner = EventScanner(plan: FieldPlan(Self.planPaths.map { FieldPath($0)! }))
        var t = Counts()
        for n in 510...514 {
            Self.check(Array((String(repeating: "[", count: n) + String(repeating: "]", count: n)).utf8), scanner: scanner, into: &t)
            Self.check(Array((String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)).utf8), scanner: scanner, into: &t)
        }
        #expect(t.mismatches.isEmpty, "\(t.mismatches)")
        #expect(t.invalid == 4)  // 513 and 514, of both shapes
    }
}
