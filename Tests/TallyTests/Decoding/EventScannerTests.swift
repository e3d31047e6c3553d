import Testing
@testable import Tally

// Expected values here are written by hand (bytes of UTF-8, Double literals), never taken from
// the scanner itself.

@Suite struct EventScannerTests {

    // MARK: extraction

    @Test func extractsTopLevelFieldsOfEveryKind() {
        let json = #"{"s":"x","n":12,"t":true,"f":false,"z":null,"o":{"k":1},"a":[1,{"b":2}],"e":""}"#
        let (outcome, values) = scanEvent(json, paths: ["s", "n", "t", "f", "z", "o", "a", "e"])
        #expect(outcome == .object)
        #expect(values == [.text("x"), .number(12), .bool(true), .bool(false), .null, .object, .array, .text("")])
    }

    @Test func dottedPathsReachNestedObjects() {
        let json = #"{"customer":{"id":"c42","address":{"city":"Oslo","zip":151}},"id":7}"#
        let paths = ["customer.id", "customer.address.city", "customer.address.zip", "id", "customer.name", "customer"]
        let (outcome, values) = scanEvent(json, paths: paths)
        #expect(outcome == .object)
        #expect(values == [.text("c42"), .text("Oslo"), .number(151), .number(7), .missing, .object])
    }

    @Test func nestedKeyWithTheSameNameAsATopLevelKeyIsNotConfused() {
        let json = #"{"a":{"id":1},"id":2,"b":{"a":{"id":3}}}"#
        let (_, values) = scanEvent(json, paths: ["id", "a.id", "b.a.id"])
        #expect(values == [.number(2), .number(1), .number(3)])
    }

    @Test func unrelatedMembersAroundWantedOnesAreSkipped() {
        let json = #"{"x":[{"id":9},[[]],"}"],"y":{"id":{"z":null}},"id":"yes","w":-1.5e3}"#
        let (outcome, values) = scanEvent(json, paths: ["id"])
        #expect(outcome == .object)
        #expect(values == [.text("yes")])
    }

    @Test(arguments: [
        #"{}"#, #"{"other":1}"#, #"{"a":1}"#, #"{"a":"b"}"#, #"{"a":[{"b":1}]}"#, #"{"a":{}}"#, #"{"a":null}"#,
        #"{"a":{"c":{"b":1}}}"#, #"{"b":1}"#,
    ])
    func pathThatIsNotThereIsMissing(json: String) {
        let (outcome, values) = scanEvent(json, paths: ["a.b"])
        #expect(outcome == .object)
        #expect(values == [.missing])
    }

    // MARK: strings

    @Test(arguments: [
        (#"\""#, [0x22]),
        (#"\\"#, [0x5C]),
        (#"\/"#, [0x2F]),
        (#"\b"#, [0x08]),
        (#"\f"#, [0x0C]),
        (#"\n"#, [0x0A]),
        (#"\r"#, [0x0D]),
        (#"\t"#, [0x09]),
        (#"\u0041"#, [0x41]),
        (#"\u0000"#, [0x00]),
        (#"\u007f"#, [0x7F]),
        (#"\u0080"#, [0xC2, 0x80]),
        (#"\u00e9"#, [0xC3, 0xA9]),
        (#"\u00E9"#, [0xC3, 0xA9]),
        (#"\u07FF"#, [0xDF, 0xBF]),
        (#"\u0800"#, [0xE0, 0xA0, 0x80]),
        (#"\u20ac"#, [0xE2, 0x82, 0xAC]),
        (#"\uffff"#, [0xEF, 0xBF, 0xBF]),
        (#"\ud83d\ude00"#, [0xF0, 0x9F, 0x98, 0x80]),
        (#"\uD83D\uDE00"#, [0xF0, 0x9F, 0x98, 0x80]),
        (#"\ud800\udc00"#, [0xF0, 0x90, 0x80, 0x80]),
        (#"\udbff\udfff"#, [0xF4, 0x8F, 0xBF, 0xBF]),
        (#"a\tb\u00e9c\"d"#, [0x61, 0x09, 0x62, 0xC3, 0xA9, 0x63, 0x22, 0x64]),
        (#"\\u0041"#, [0x5C, 0x75, 0x30, 0x30, 0x34, 0x31]),
    ] as [(String, [UInt8])])
    func escapesDecodeToTheRightBytes(escaped: String, expected: [UInt8]) {
        let (outcome, values) = scanEvent(#"{"s":""# + escaped + #"","after":1}"#, paths: ["s", "after"])
        #expect(outcome == .object)
        #expect(values == [.string(expected), .number(1)])
    }

    @Test func rawMultiByteUTF8IsKeptAsIs() {
        let bytes: [UInt8] = Array(#"{"s":""#.utf8) + [0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80] + Array(#""}"#.utf8)
        let (outcome, values) = scanEvent(bytes, paths: ["s"])
        #expect(outcome == .object)
        #expect(values == [.string([0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80])])
    }

    @Test func severalEscapedStringsInOneEventKeepTheirOwnBytes() {
        let json = #"{"a":"\u00e9\n","skip":"\t\t\t","b":"x\"y","c":"plain","d":"\ud83d\ude00!"}"#
        let (_, values) = scanEvent(json, paths: ["a", "b", "c", "d"])
        #expect(values == [.string([0xC3, 0xA9, 0x0A]), .text("x\"y"), .text("plain"), .string([0xF0, 0x9F, 0x98, 0x80, 0x21])])
    }

    @Test func keysWrittenWithEscapesMatchPlainPaths() {
        let json = #"{"\u0069d":1,"cust\u006fmer":{"\u0069\u0064":"x"},"caf\u00e9":true,"a\/b":2,"q\"":3}"#
        let (outcome, values) = scanEvent(json, paths: ["id", "customer.id", "café", "a/b", "q\""])
        #expect(outcome == .object)
        #expect(values == [.number(1), .text("x"), .bool(true), .number(2), .number(3)])
    }

    @Test func escapedKeyThatDecodesToSomethingElseDoesNotMatch() {
        let json = #"{"i\u0064x":1,"\u0049d":2,"i\\d":3}"#
        let (_, values) = scanEvent(json, paths: ["id"])
        #expect(values == [.missing])
    }

    // MARK: numbers and literals

    @Test(arguments: [
        ("0", 0.0), ("42", 42), ("-17", -17), ("3.25", 3.25), ("-0.5", -0.5), ("0.1", 0.1),
        ("1e3", 1000), ("1E3", 1000), ("1e+3", 1000), ("1e-3", 0.001), ("2.5e-3", 0.0025), ("-1.5E+2", -150),
        ("0.000001234", 1.234e-6), ("12345678901234567890", 12345678901234567890.0),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("9007199254740993", 9007199254740992), ("9007199254740995", 9007199254740996),
        ("1.7976931348623157e308", 1.7976931348623157e308), ("4.9e-324", Double.leastNonzeroMagnitude), ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ("1e-400", 0), ("-1e-400", -0.0), ("0e400", 0), ("1e22", 1e22), ("1e23", 1e23), ("123.456e-2", 1.23456),
        ("0.30000000000000004441", 0.30000000000000004), ("100000000000000000000000", 1e23),
        ("3.141592653589793238462643383279", 3.141592653589793),
    ] as [(String, Double)])
    func numbersParseToTheNearestDouble(text: String, expected: Double) {
        let (outcome, values) = scanEvent(#"{"n":"# + text + "}", paths: ["n"])
        #expect(outcome == .object)
        #expect(values == [.number(expected)])
    }

    /// Numbers the scanner only skips (not in the plan) are still validated, and one out of a
    /// `Double`'s range still rejects the event, as when it is read.
    @Test(arguments: [
        ("1234567890123", true), ("-0.25", true), ("12345678.87654321", true), (String(repeating: "9", count: 308), true),
        ("1e308", true), ("1" + String(repeating: "0", count: 309), false), ("1e309", false), ("-2e400", false),
        ("01", false), ("1.", false), ("-", false), (".5", false), ("1e", false), ("1.e3", false),
    ] as [(String, Bool)])
    func skippedNumbersAreValidatedToo(text: String, valid: Bool) {
        let (outcome, values) = scanEvent(#"{"skipped":"# + text + #","n":1}"#, paths: ["n"])
        if valid {
            #expect(outcome == .object)
            #expect(values == [.number(1)])
        } else if case .invalid = outcome {} else {
            Issue.record("\(text) accepted")
        }
    }

    @Test func randomNumbersMatchACorrectlyRoundedParserBitForBit() {
        var rng = ScannerDifferentialTests.SplitMix64(state: 0xD1CE)
        let scanner = EventScanner(plan: FieldPlan([FieldPath("n")!]))
        var compared = 0
        for _ in 0..<20_000 {
            var text = rng.chance(0.4) ? "-" : ""
            if rng.chance(0.15) { text += "0" } else {
                text += String(rng.int(1...9))
                for _ in 0..<rng.pick([rng.int(0...5), rng.int(6...18), rng.int(19...30)]) { text += String(rng.int(0...9)) }
            }
            if rng.chance(0.5) {
                text += "."
                for _ in 0..<rng.pick([rng.int(1...4), rng.int(5...20), rng.int(21...40)]) { text += String(rng.int(0...9)) }
            }
            if rng.chance(0.5) {
                text += rng.pick(["e", "E", "e+", "e-", "E-"]) + String(rng.pick([rng.int(0...25), rng.int(0...340)]))
            }
            let expected = Double(text)!  // Swift's parser: correctly rounded, ±infinity on overflow
            let (outcome, values) = scanEvent(Array(#"{"n":\#(text)}"#.utf8), scanner: scanner, paths: ["n"])
            if expected.isInfinite {
                #expect(outcome.failureReason == .numberOutOfRange, "\(text)")
            } else if case .number(let got) = values[0] {
                #expect(got.bitPattern == expected.bitPattern, "\(text): got \(got), expected \(expected)")
                compared += 1
            } else {
                Issue.record("\(text): \(outcome) \(values)")
            }
        }
        #expect(compared > 15_000)
    }

    @Test func negativeZeroKeepsItsSign() {
        let json = #"{"n":-0}"#
        let bytes = Array(json.utf8)
        let scanner = EventScanner(plan: FieldPlan([FieldPath("n")!]))
        let sign = bytes.withUnsafeBytes { raw in scanner.scan(raw) { _, view in view[0].number.sign } }
        #expect(sign == .minus)
    }

    @Test func literalsAreRead() {
        let (_, values) = scanEvent(#"{"t":true,"f":false,"n":null,"l":[true,false,null]}"#, paths: ["t", "f", "n", "l"])
        #expect(values == [.bool(true), .bool(false), .null, .array])
    }

    // MARK: duplicates and overlapping paths

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, ["a"], [Extracted.number(2)]),
        (#"{"a":"x\n","a":"y"}"#, ["a"], [.text("y")]),
        (#"{"a":"y","a":"x\n"}"#, ["a"], [.text("x\n")]),
        (#"{"a":{"b":1},"a":5}"#, ["a", "a.b"], [.number(5), .missing]),
        (#"{"a":{"b":1},"a":5}"#, ["a.b"], [.missing]),
        (#"{"a":5,"a":{"b":1}}"#, ["a", "a.b"], [.object, .number(1)]),
        (#"{"a":{"b":1,"c":2},"a":{"c":3}}"#, ["a.b", "a.c"], [.missing, .number(3)]),
        (#"{"a":{"b":{"c":1}},"a":{"b":null}}"#, ["a.b", "a.b.c"], [.null, .missing]),
        (#"{"a":{"b":1,"b":2}}"#, ["a.b"], [.number(2)]),
        (#"{"a":1,"b":2,"a":null}"#, ["a", "b"], [.null, .number(2)]),
    ])
    func duplicateKeysLastOneWins(json: String, paths: [String], expected: [Extracted]) {
        let (outcome, values) = scanEvent(json, paths: paths)
        #expect(outcome == .object)
        #expect(values == expected)
    }

    @Test func pathThatIsBothALeafAndAPrefix() {
        let paths = ["a", "a.b", "a.b.c"]
        #expect(scanEvent(#"{"a":{"b":{"c":"deep"}}}"#, paths: paths).1 == [.object, .object, .text("deep")])
        #expect(scanEvent(#"{"a":{"b":2}}"#, paths: paths).1 == [.object, .number(2), .missing])
        #expect(scanEvent(#"{"a":3}"#, paths: paths).1 == [.number(3), .missing, .missing])
    }

    // MARK: top level

    @Test(arguments: [#"[1,2]"#, "1", "-2.5e3", #""s""#, "true", "false", "null", " [ ] ", #"[{"a":1}]"#, #""{\"a\":1}""#])
    func validNonObjectIsNotAnObject(json: String) {
        let (outcome, values) = scanEvent(json, paths: ["a"])
        #expect(outcome == .notAnObject)
        #expect(values == [.missing])
    }

    @Test func surroundingWhitespaceAndByteOrderMarkAreAccepted() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let (o1, v1) = scanEvent(bom + Array(#"{"a":1}"#.utf8), paths: ["a"])
        #expect(o1 == .object && v1 == [.number(1)])
        let (o2, v2) = scanEvent(" \t\r\n{ \"a\" :\n1 ,\t\"b\"\r:[ ] } \n", paths: ["a", "b"])
        #expect(o2 == .object && v2 == [.number(1), .array])
    }

    @Test func oneTrailingCommaIsAcceptedAsFoundationDoes() {
        #expect(scanEvent(#"{"a":1,}"#, paths: ["a"]) == (.object, [.number(1)]))
        #expect(scanEvent(#"{"a":[1,2,],}"#, paths: ["a"]) == (.object, [.array]))
        #expect(failureReason(Array(#"{,}"#.utf8)) == .unexpectedByte)
        #expect(failureReason(Array(#"{"a":[,]}"#.utf8)) == .unexpectedByte)
        #expect(failureReason(Array(#"{"a":[1,,]}"#.utf8)) == .unexpectedByte)
        #expect(failureReason(Array(#"{"a":1,,}"#.utf8)) == .unexpectedByte)
    }

    // MARK: scanner reuse

    @Test func reusedScannerForgetsTheFieldsOfThePreviousEvent() {
        let plan = FieldPlan([FieldPath("a")!, FieldPath("b.c")!])
        let scanner = EventScanner(plan: plan)
        #expect(scanEvent(Array(#"{"a":"\u00e9","b":{"c":2}}"#.utf8), scanner: scanner, paths: ["a", "b.c"])
            == (.object, [.string([0xC3, 0xA9]), .number(2)]))
        #expect(scanEvent(Array(#"{"b":{}}"#.utf8), scanner: scanner, paths: ["a", "b.c"]) == (.object, [.missing, .missing]))
        if case .invalid = scanEvent(Array(#"{"a":"#.utf8), scanner: scanner, paths: ["a"]).0 {} else {
            Issue.record("truncated input accepted")
        }
        #expect(scanEvent(Array(#"{"a":"x\ty"}"#.utf8), scanner: scanner, paths: ["a", "b.c"])
            == (.object, [.text("x\ty"), .missing]))
    }

    /// The scanner remembers the keys met at each place of an object; a key that differs from the
    /// remembered one only by a byte, a length or an escape must still be read as itself.
    @Test func keysThatLookLikeTheRememberedOnesAreReadAsThemselves() {
        let paths = ["total", "customer_id", "c.id"]
        let scanner = EventScanner(plan: FieldPlan(paths.map { FieldPath($0)! }))
        func scan(_ json: String) -> [Extracted] {
            let (outcome, values) = scanEvent(Array(json.utf8), scanner: scanner, paths: paths)
            #expect(outcome == .object, "\(json)")
            return values
        }
        #expect(scan(#"{"total":1,"customer_id":"a","c":{"id":"x"}}"#) == [.number(1), .text("a"), .text("x")])
        #expect(scan(#"{"total":2,"customer_id":"b","c":{"id":"y"}}"#) == [.number(2), .text("b"), .text("y")])
        // Same place, other keys: longer, shorter, one byte changed, the same text escaped.
        #expect(scan(#"{"totalX":3,"customer_i":"c","c":{"id2":"z"}}"#) == [.missing, .missing, .missing])
        #expect(scan(#"{"tota":3,"customer_ie":"c","c":{"i":"z"}}"#) == [.missing, .missing, .missing])
        #expect(scan(#"{"tot\u0061l":4,"customer\u005fid":"d","c":{"\u0069d":"w"}}"#) == [.number(4), .text("d"), .text("w")])
        #expect(scan(#"{"total":5,"customer_id":"e","c":{"id":"v"}}"#) == [.number(5), .text("e"), .text("v")])
        // Members in another order, and a key cut short by the end of the input.
        #expect(scan(#"{"customer_id":"f","total":6}"#) == [.number(6), .text("f"), .missing])
        #expect(scan(#"{"c":{"id":"u"},"total":7,"customer_id":"g"}"#) == [.number(7), .text("g"), .text("u")])
        if case .invalid(let f) = scanEvent(Array(#"{"c""#.utf8), scanner: scanner, paths: paths).0 {
            #expect(f.reason == .unexpectedEnd)
        } else {
            Issue.record("a key cut short was accepted")
        }
        if case .invalid(let f) = scanEvent(Array(#"{"c":{"i"#.utf8), scanner: scanner, paths: paths).0 {
            #expect(f.reason == .unexpectedEnd)
        } else {
            Issue.record("a nested key cut short was accepted")
        }
        #expect(scan(#"{"c":{"id":"t"},"total":8,"customer_id":"h"}"#) == [.number(8), .text("h"), .text("t")])
    }

    // MARK: malformed input

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let q = bytes(#"{"a":""#)  // {"a":"
    static let e = bytes(#""}"#)  // "}

    @Test(arguments: [
        // truncated
        (bytes(""), JSONFailure.Reason.unexpectedEnd),
        (bytes("   "), .unexpectedEnd),
        (bytes("{"), .unexpectedEnd),
        (bytes(#"{"a":1"#), .unexpectedEnd),
        (bytes(#"{"a":"#), .unexpectedEnd),
        (bytes(#"{"a""#), .unexpectedEnd),
        (bytes(#"{"a":"xy"#), .unexpectedEnd),
        (bytes(#"{"a":tr"#), .unexpectedEnd),
        (bytes(#"{"a":-"#), .unexpectedEnd),
        (bytes(#"{"a":1."#), .unexpectedEnd),
        (bytes(#"{"a":1e"#), .unexpectedEnd),
        (bytes(#"{"a":"\u00"#), .unexpectedEnd),
        (bytes(#"{"a":"\"#), .unexpectedEnd),
        (bytes(#"{"a":[1,2"#), .unexpectedEnd),
        (bytes(#"{"x":{"y":[{"#), .unexpectedEnd),
        // bad escapes
        (bytes(#"{"a":"\x"}"#), .invalidEscape),
        (bytes(#"{"a":"\U0041"}"#), .invalidEscape),
        (bytes(#"{"a":"\'"}"#), .invalidEscape),
        (bytes(#"{"skipped":"\a"}"#), .invalidEscape),
        (bytes(#"{"a":"\u12G4"}"#), .invalidUnicodeEscape),
        (bytes(#"{"a":"\u-123"}"#), .invalidUnicodeEscape),
        // lone surrogates
        (bytes(#"{"a":"\ud800"}"#), .loneSurrogate),
        (bytes(#"{"a":"\udc00"}"#), .loneSurrogate),
        (bytes(#"{"a":"\ude00\ud83d"}"#), .loneSurrogate),
        (bytes(#"{"a":"\ud83d\u0041"}"#), .loneSurrogate),
        (bytes(#"{"a":"\ud83d\ud83d"}"#), .loneSurrogate),
        (bytes(#"{"a":"\ud83dxx"}"#), .loneSurrogate),
        (bytes(#"{"\udfff":1}"#), .loneSurrogate),
        // control characters
        (q + [0x01] + e, .controlCharacter),
        (q + [0x09] + e, .controlCharacter),
        (q + [0x0A] + e, .controlCharacter),
        (q + [0x00] + e, .controlCharacter),
        (q + [0x61, 0x1F] + e, .controlCharacter),
        // invalid UTF-8: bad lead bytes, overlongs, encoded surrogates, beyond U+10FFFF, truncated sequences
        (q + [0xFF] + e, .invalidUTF8),
        (q + [0x80] + e, .invalidUTF8),
        (q + [0xC0, 0x80] + e, .invalidUTF8),
        (q + [0xC1, 0xBF] + e, .invalidUTF8),
        (q + [0xE0, 0x80, 0x80] + e, .invalidUTF8),
        (q + [0xED, 0xA0, 0x80] + e, .invalidUTF8),
        (q + [0xF0, 0x80, 0x80, 0x80] + e, .invalidUTF8),
        (q + [0xF4, 0x90, 0x80, 0x80] + e, .invalidUTF8),
        (q + [0xF5, 0x80, 0x80, 0x80] + e, .invalidUTF8),
        (q + [0xE2, 0x82] + e, .invalidUTF8),
        (q + [0xC3, 0x41] + e, .invalidUTF8),
        (bytes(#"{""#) + [0xC3] + bytes(#"":1}"#), .invalidUTF8),
        (bytes(#"{"skipped":[""#) + [0xFE] + bytes(#""]}"#), .invalidUTF8),
        // numbers
        (bytes(#"{"a":1e400}"#), .numberOutOfRange),
        (bytes(#"{"a":-1e400}"#), .numberOutOfRange),
        (bytes(#"{"a":1.8e308}"#), .numberOutOfRange),
        (bytes(#"{"skipped":1e400}"#), .numberOutOfRange),
        (bytes(#"{"a":[1,2e999]}"#), .numberOutOfRange),
        (bytes(#"{"a":+1}"#), .unexpectedByte),
        (bytes(#"{"a":.5}"#), .unexpectedByte),
        (bytes(#"{"a":1.}"#), .unexpectedByte),
        (bytes(#"{"a":1.e5}"#), .unexpectedByte),
        (bytes(#"{"a":1e}"#), .unexpectedByte),
        (bytes(#"{"a":01}"#), .unexpectedByte),
        (bytes(#"{"a":-a}"#), .unexpectedByte),
        // structure and literals
        (bytes(#"{a:1}"#), .unexpectedByte),
        (bytes(#"{"a" 1}"#), .unexpectedByte),
        (bytes(#"{"a":1 "b":2}"#), .unexpectedByte),
        (bytes(#"{"a":nul}"#), .unexpectedByte),
        (bytes(#"{"a":True}"#), .unexpectedByte),
        (bytes(#"{"a":'x'}"#), .unexpectedByte),
        (bytes(#"{"a":[1}"#), .unexpectedByte),
        (bytes("\u{0C}{}"), .unexpectedByte),
        // trailing data
        (bytes(#"{"a":1} x"#), .trailingData),
        (bytes(#"{}{}"#), .trailingData),
        (bytes(#"{"a":1}}"#), .trailingData),
        (bytes("1 2"), .trailingData),
        (bytes("[] ,"), .trailingData),
        (bytes("{}\u{0}"), .trailingData),
    ])
    func malformedInputIsInvalidWithTheRightReason(input: [UInt8], reason: JSONFailure.Reason) {
        let (outcome, _) = scanEvent(input, paths: ["a"])
        guard case .invalid(let failure) = outcome else {
            Issue.record("accepted \(escapedBytes(input)) as \(outcome)")
            return
        }
        #expect(failure.reason == reason, "\(escapedBytes(input))")
        #expect(failure.offset >= 0 && failure.offset <= input.count)
    }

    @Test func failureOffsetPointsAtTheProblem() {
        let trailing = scanEvent(#"{"a":1}  x"#, paths: []).0
        #expect(trailing == .invalid(JSONFailure(.trailingData, at: 9)))
        let control = scanEvent(Self.q + [0x78, 0x01] + Self.e, paths: ["a"]).0
        #expect(control == .invalid(JSONFailure(.controlCharacter, at: 7)))
        let escape = scanEvent(#"{"a":"\x"}"#, paths: ["a"]).0
        #expect(escape == .invalid(JSONFailure(.invalidEscape, at: 7)))
    }

    // MARK: depth

    static func nestedArrays(_ n: Int) -> [UInt8] {
        [UInt8](repeating: 0x5B, count: n) + [UInt8](repeating: 0x5D, count: n)
    }

    static func nestedObjects(_ n: Int, leaf: String = "1") -> [UInt8] {
        Array((String(repeating: #"{"a":"#, count: n) + leaf + String(repeating: "}", count: n)).utf8)
    }

    @Test func arraysNestedFiveHundredTwelveDeepAreAcceptedAndOneMoreIsTooDeep() {
        #expect(scanEvent(Self.nestedArrays(512), paths: []).0 == .notAnObject)
        #expect(failureReason(Self.nestedArrays(513)) == .tooDeep)
    }

    @Test func containersInsideAnObjectCountTowardsTheDepth() {
        // 1 object + 511 arrays = 512 levels; one array more is 513.
        let ok = Array(#"{"a":"#.utf8) + Self.nestedArrays(511) + [0x7D]
        let deep = Array(#"{"a":"#.utf8) + Self.nestedArrays(512) + [0x7D]
        #expect(scanEvent(ok, paths: ["a"]) == (.object, [.array]))
        #expect(scanEvent(ok, paths: ["b"]).0 == .object)
        #expect(failureReason(deep) == .tooDeep)
        #expect(scanEvent(deep, paths: ["b"]).0.failureReason == .tooDeep)
    }

    @Test func objectsNestedAlongAPlannedPathHaveTheSameDepthLimit() {
        let path512 = Array(repeating: "a", count: 512).joined(separator: ".")
        let path513 = Array(repeating: "a", count: 513).joined(separator: ".")
        #expect(scanEvent(Self.nestedObjects(512), paths: [path512]) == (.object, [.number(1)]))
        #expect(scanEvent(Self.nestedObjects(512), paths: ["b"]).0 == .object)
        let (outcome, _) = scanEvent(Self.nestedObjects(513, leaf: "2"), paths: [path513])
        #expect(outcome.failureReason == .tooDeep)
        #expect(scanEvent(Self.nestedObjects(513), paths: ["b"]).0.failureReason == .tooDeep)
    }
}

extension EventScanner.Outcome {
    var failureReason: JSONFailure.Reason? {
        if case .invalid(let f) = self { return f.reason }
        return nil
    }

    var failureOffset: Int? {
        if case .invalid(let f) = self { return f.offset }
        return nil
    }
}
