import Testing
@testable import Tally

/// Drives one `WindowOperator` the way `OfflineRunner` does: an `EventScanner` over the operator's
/// field plan, `process` for objects, `reject` for the rest.
final class OperatorHarness {
    let op: WindowOperator
    let scanner: EventScanner

    init(_ definition: Definition) {
        var plan = FieldPlan()
        op = WindowOperator(definition, plan: &plan)
        scanner = EventScanner(plan: plan)
    }

    @discardableResult
    func feed(_ json: String, partition: Int32 = 0, recordTime: Int64? = nil, now: Int64 = 0) -> EventOutcome {
        Array(json.utf8).withUnsafeBytes { raw in
            scanner.scan(raw) { outcome, view in
                switch outcome {
                case .object: return op.process(view, partition: partition, recordTime: recordTime, now: now)
                case .notAnObject: op.reject(partition: partition, now: now); return .rejected(.notAnObject)
                case .invalid: op.reject(partition: partition, now: now); return .rejected(.invalidJSON)
                }
            }
        }
    }

    /// Emitted results since the last call.
    func take() -> [WindowResult] {
        defer { op.results.removeAll() }
        return Array(op.results)
    }
}

func key(_ values: GroupKey.Value...) -> [UInt8] { GroupKey.encode(values) }

/// A group key as text, `a|7.0`, decoded independently of how the operator built it.
func keyText(_ bytes: [UInt8]) -> String {
    GroupKey.decode(bytes).map { v -> String in
        switch v {
        case .string(let s): s
        case .number(let d): "\(d)"
        case .bool(let b): "\(b)"
        }
    }.joined(separator: "|")
}

func makeDefinition(
    groupBy: [String] = ["k"],
    window: WindowSpec = .tumbling(60_000),
    aggregates: [AggregateSpec] = [AggregateSpec(name: "n", fn: .count, field: nil)],
    filters: [Predicate] = [],
    emit: EmitMode = .final,
    time: TimeSpec? = TimeSpec(field: FieldPath("t")!, format: .epochMs)
) -> Definition {
    Definition(
        name: "test", source: "events", filters: filters, groupBy: groupBy.map { FieldPath($0)! }, time: time,
        window: window, aggregates: aggregates, emit: emit, output: "test", deadLetter: "test.dlq")
}

let allAggregates = [
    AggregateSpec(name: "events", fn: .count, field: nil),
    AggregateSpec(name: "present", fn: .count, field: FieldPath("v")!),
    AggregateSpec(name: "sum", fn: .sum, field: FieldPath("v")!),
    AggregateSpec(name: "avg", fn: .avg, field: FieldPath("v")!),
    AggregateSpec(name: "min", fn: .min, field: FieldPath("v")!),
    AggregateSpec(name: "max", fn: .max, field: FieldPath("v")!),
]

@Suite struct WindowOperatorTests {

    // MARK: watermark

    @Test func watermarkIsTheLargestEventTimeSeenOnOnePartition() {
        let h = OperatorHarness(makeDefinition())
        #expect(h.op.watermark == nil)
        var seen: [Int64?] = []
        for t in [1000, 5000, 3000, 4999, 7000] {
            h.feed(#"{"k":"a","t":\#(t)}"#)
            seen.append(h.op.watermark)
        }
        #expect(seen == [1000, 5000, 5000, 5000, 7000])
    }

    @Test func everyValidTimeMovesTheWatermarkEvenWhenTheEventIsNotCounted() {
        let h = OperatorHarness(makeDefinition(
            aggregates: [AggregateSpec(name: "s", fn: .sum, field: FieldPath("v")!)],
            filters: [Predicate(field: FieldPath("type")!, op: .eq, values: [.string(Array("keep".utf8))])]))
        #expect(h.feed(#"{"type":"drop","k":"a","t":1000}"#) == .filtered)
        #expect(h.op.watermark == 1000)
        #expect(h.feed(#"{"type":"keep","t":2000}"#) == .rejected(.missingGroupField))
        #expect(h.op.watermark == 2000)
        #expect(h.feed(#"{"type":"keep","k":"a","t":3000,"v":"x"}"#) == .rejected(.nonNumericValue))
        #expect(h.op.watermark == 3000)
        #expect(h.feed(#"{"type":"keep","k":"a","t":"soon"}"#) == .rejected(.invalidTime))
        #expect(h.feed(#"{"type":"keep","k":"a"}"#) == .rejected(.missingTime))
        #expect(h.op.watermark == 3000)
    }

    @Test func watermarkIsTheSmallestAcrossPartitionsAndAnEmptyPartitionHoldsItBack() {
        let h = OperatorHarness(makeDefinition())
        h.op.watermarks.assign(0, now: 0)
        h.op.watermarks.assign(1, now: 0)
        h.feed(#"{"k":"a","t":5000}"#, partition: 0)
        h.feed(#"{"k":"a","t":200000}"#, partition: 0)
        #expect(h.op.watermark == nil, "partition 1 has delivered nothing yet")
        #expect(h.take().isEmpty)
        h.feed(#"{"k":"b","t":2000}"#, partition: 1)
        #expect(h.op.watermark == 2000)
        #expect(h.take().isEmpty, "window [0, 60000) must stay open while partition 1 is at 2000")
        h.feed(#"{"k":"b","t":90000}"#, partition: 1)
        #expect(h.op.watermark == 90000)
        let closed = h.take()
        #expect(closed.map(\.start) == [0, 0] && Set(closed.map(\.key)) == [key(.string("a")), key(.string("b"))])
        h.feed(#"{"k":"b","t":300000}"#, partition: 1)
        #expect(h.op.watermark == 200000, "partition 0 now lags behind")
    }

    @Test func idlePartitionIsLeftOutAfterTheIdleTimeout() {
        let h = OperatorHarness(makeDefinition())
        h.op.watermarks.assign(0, now: 0)
        h.op.watermarks.assign(1, now: 0)
        h.feed(#"{"k":"a","t":1000}"#, partition: 0, now: 5_000)
        h.feed(#"{"k":"a","t":70000}"#, partition: 0, now: 9_000)
        h.op.refreshWatermark(now: 9_999, idleTimeout: 10_000)
        #expect(h.op.watermark == nil && h.take().isEmpty)
        h.op.refreshWatermark(now: 10_000, idleTimeout: 10_000)
        #expect(h.op.watermark == 70000)
        #expect(h.take().map(\.start) == [0])
    }

    // MARK: closing

    @Test(arguments: [Int64(0), 10_000])
    func windowClosesExactlyWhenTheWatermarkReachesEndPlusGrace(grace: Int64) {
        let h = OperatorHarness(makeDefinition(window: .tumbling(60_000, grace: grace)))
        h.feed(#"{"k":"a","t":1000}"#)
        h.feed(#"{"k":"a","t":59999}"#)
        // Events without a group key are rejected but still move the watermark.
        #expect(h.feed(#"{"t":\#(60_000 + grace - 1)}"#) == .rejected(.missingGroupField))
        #expect(h.take().isEmpty, "watermark \(60_000 + grace - 1) < end + grace")
        h.feed(#"{"t":\#(60_000 + grace)}"#)
        let results = h.take()
        #expect(results == [WindowResult(key: key(.string("a")), start: 0, end: 60_000, isFinal: true, values: [2])])
    }

    @Test func eventsForClosedWindowsAreLate() {
        let h = OperatorHarness(makeDefinition(window: .tumbling(60_000, grace: 10_000)))
        #expect(h.feed(#"{"k":"a","t":1000}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":69999}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":30000}"#) == .counted, "grace keeps [0, 60000) open until 70000")
        #expect(h.feed(#"{"k":"a","t":70000}"#) == .counted)
        #expect(h.take() == [WindowResult(key: key(.string("a")), start: 0, end: 60_000, isFinal: true, values: [2])])
        #expect(h.feed(#"{"k":"a","t":59999}"#) == .late)
        #expect(h.feed(#"{"k":"b","t":0}"#) == .late)
        #expect(h.feed(#"{"k":"a","t":-5}"#) == .late)
        #expect(h.feed(#"{"k":"a","t":60000}"#) == .counted)
        h.op.closeAll()
        #expect(h.take() == [WindowResult(key: key(.string("a")), start: 60_000, end: 120_000, isFinal: true, values: [3])])
    }

    @Test func slidingEventCountsOnlyInItsWindowsThatAreStillOpen() {
        // size 3m, slide 1m: an event at 150000 belongs to windows starting 0, 60000 and 120000.
        let h = OperatorHarness(makeDefinition(window: .sliding(180_000, every: 60_000)))
        #expect(h.feed(#"{"k":"a","t":150000}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":180000}"#) == .counted)  // watermark 180000 closes [0, 180000)
        #expect(h.take() == [WindowResult(key: key(.string("a")), start: 0, end: 180_000, isFinal: true, values: [1])])
        #expect(h.feed(#"{"k":"a","t":150000}"#) == .counted, "still counts in [60000, 240000) and [120000, 300000)")
        #expect(h.feed(#"{"k":"a","t":60000}"#) == .counted, "still counts in [60000, 240000)")
        #expect(h.feed(#"{"k":"a","t":59999}"#) == .late, "its windows start at -120000, -60000 and 0, all closed")
        h.op.closeAll()
        let byStart = Dictionary(uniqueKeysWithValues: h.take().map { ($0.start, $0.values) })
        // [60000, 240000) holds 150000, 180000, 150000, 60000; [120000, 300000) the first three.
        #expect(byStart == [60_000: [4], 120_000: [3], 180_000: [1]])
    }

    @Test func closeAllEmitsEveryRemainingWindowWithDataExactlyOnce() {
        let h = OperatorHarness(makeDefinition(window: .sliding(120_000, every: 60_000)))
        h.feed(#"{"k":"a","t":10000}"#)  // windows -60000, 0
        h.feed(#"{"k":"b","t":70000}"#)  // windows 0, 60000
        h.feed(#"{"k":"a","t":100000}"#)  // windows 0, 60000; the watermark closes [-60000, 60000)
        let text = { (r: WindowResult) in "\(keyText(r.key)) \(r.start) \(Int(r.values[0]!)) \(r.isFinal)" }
        #expect(h.take().map(text) == ["a -60000 1 true"])
        h.op.closeAll()
        let rest = h.take().map(text)
        #expect(Set(rest) == ["a 0 2 true", "b 0 1 true", "b 60000 1 true", "a 60000 1 true"] && rest.count == 4)
        h.op.closeAll()
        #expect(h.take().isEmpty, "closing twice emits nothing more")
        #expect(h.op.liveAccumulators == 0)
    }

    // MARK: aggregates

    @Test func aggregatesSkipMissingAndNullValues() {
        let h = OperatorHarness(makeDefinition(aggregates: allAggregates))
        for e in [#"{"k":"a","t":1,"v":2}"#, #"{"k":"a","t":2,"v":null}"#, #"{"k":"a","t":3}"#,
                  #"{"k":"a","t":4,"v":-3.5}"#, #"{"k":"a","t":5,"v":10}"#, #"{"k":"b","t":6}"#, #"{"k":"b","t":7,"v":null}"#] {
            #expect(h.feed(e) == .counted, "\(e)")
        }
        h.op.closeAll()
        let got = Dictionary(uniqueKeysWithValues: h.take().map { (keyText($0.key), $0.values) })
        let a: [Double?] = [5, 3, 8.5, 8.5 / 3, -3.5, 10]
        let b: [Double?] = [2, 0, nil, nil, nil, nil]
        #expect(got["a"] == a)
        #expect(got["b"] == b)
        #expect(got.count == 2)
    }

    @Test(arguments: [#""12""#, "true", "false", #"{"x":1}"#, "[1]"])
    func nonNumericValueForANumericAggregateIsRejected(value: String) {
        for fn in [AggregateSpec.Function.sum, .avg, .min, .max] {
            let h = OperatorHarness(makeDefinition(aggregates: [AggregateSpec(name: "x", fn: fn, field: FieldPath("v")!)]))
            #expect(h.feed(#"{"k":"a","t":1,"v":\#(value)}"#) == .rejected(.nonNumericValue), "\(fn) of \(value)")
            #expect(h.feed(#"{"k":"a","t":2,"v":4}"#) == .counted)
            h.op.closeAll()
            #expect(h.take().map(\.values) == [[4]], "the rejected event must not count")
        }
    }

    @Test func countOfAFieldCountsAnyNonNullValue() {
        let h = OperatorHarness(makeDefinition(aggregates: [AggregateSpec(name: "c", fn: .count, field: FieldPath("v")!)]))
        for v in [#""s""#, "0", "false", "{}", "[]", "null"] { #expect(h.feed(#"{"k":"a","t":1,"v":\#(v)}"#) == .counted) }
        #expect(h.feed(#"{"k":"a","t":1}"#) == .counted)
        h.op.closeAll()
        #expect(h.take().map(\.values) == [[5]])
    }

    // MARK: where

    static let cases: [(Predicate.Op, [Literal], String, Bool)] = {
        let s = { (x: String) in Literal.string(Array(x.utf8)) }
        return [
            (.eq, [.number(5)], "5", true), (.eq, [.number(5)], "5.0", true), (.eq, [.number(5)], "6", false),
            (.eq, [.number(5)], #""5""#, false), (.eq, [.number(5)], "true", false), (.eq, [.number(5)], "null", false),
            (.eq, [.number(5)], "", false), (.eq, [s("x")], #""x""#, true), (.eq, [s("x")], #""\u0078""#, true),
            (.eq, [s("x")], #""xy""#, false), (.eq, [s("x")], "1", false), (.eq, [s("é")], #""\u00e9""#, true),
            (.eq, [.bool(true)], "true", true), (.eq, [.bool(true)], "false", false), (.eq, [.bool(true)], "1", false),
            (.eq, [.number(1)], "{}", false), (.eq, [.number(1)], "[1]", false),
            (.ne, [.number(5)], "6", true), (.ne, [.number(5)], "5", false), (.ne, [.number(5)], #""6""#, false),
            (.ne, [.number(5)], "", false), (.ne, [.number(5)], "null", false), (.ne, [s("a")], #""b""#, true),
            (.ne, [.bool(true)], "false", true), (.ne, [.bool(true)], "true", false),
            (.lt, [.number(10)], "9", true), (.lt, [.number(10)], "10", false), (.lt, [.number(10)], "11", false),
            (.lt, [.number(10)], "-1e3", true), (.lt, [.number(10)], #""9""#, false), (.lt, [.number(10)], "", false),
            (.le, [.number(10)], "10", true), (.le, [.number(10)], "10.5", false), (.le, [.number(10)], "null", false),
            (.gt, [.number(10)], "11", true), (.gt, [.number(10)], "10", false), (.gt, [.number(10)], "true", false),
            (.ge, [.number(10)], "10", true), (.ge, [.number(10)], "9.99", false), (.ge, [.number(10)], "1e1", true),
            (.lt, [s("m")], #""a""#, true), (.lt, [s("m")], #""z""#, false), (.lt, [s("m")], #""m""#, false),
            (.lt, [s("m")], #""""#, true), (.lt, [s("m")], #""B""#, true), (.lt, [s("ma")], #""m""#, true),
            (.gt, [s("m")], #""ma""#, true), (.ge, [s("m")], #""m""#, true), (.le, [s("m")], #""n""#, false),
            (.gt, [s("a")], "5", false), (.lt, [s("a")], "5", false),
            (.in, [s("a"), s("b"), .number(3)], #""a""#, true), (.in, [s("a"), s("b"), .number(3)], #""b""#, true),
            (.in, [s("a"), s("b"), .number(3)], "3", true), (.in, [s("a"), s("b"), .number(3)], #""c""#, false),
            (.in, [s("a"), s("b"), .number(3)], #""3""#, false), (.in, [s("a"), s("b"), .number(3)], "", false),
            (.in, [s("a"), .bool(false)], "false", true), (.in, [s("a"), .bool(false)], "null", false),
            (.exists, [], "0", true), (.exists, [], #""""#, true), (.exists, [], "false", true), (.exists, [], "{}", true),
            (.exists, [], "[]", true), (.exists, [], "null", false), (.exists, [], "", false),
        ]
    }()

    @Test(arguments: cases)
    func whereConditionsHoldAsSpecified(op: Predicate.Op, values: [Literal], eventValue: String, holds: Bool) {
        for path in ["f", "nested.f"] {
            let h = OperatorHarness(makeDefinition(filters: [Predicate(field: FieldPath(path)!, op: op, values: values)]))
            let field = eventValue.isEmpty ? "" : #","f":\#(eventValue)"#
            let event = path == "f" ? #"{"k":"a","t":1\#(field)}"# : #"{"k":"a","t":1,"nested":{"g":0\#(field)}}"#
            #expect(h.feed(event) == (holds ? .counted : .filtered), "\(op) \(values) on \(event)")
        }
    }

    @Test func allConditionsMustHold() {
        let h = OperatorHarness(makeDefinition(filters: [
            Predicate(field: FieldPath("a")!, op: .gt, values: [.number(1)]),
            Predicate(field: FieldPath("b")!, op: .eq, values: [.string(Array("x".utf8))]),
        ]))
        #expect(h.feed(#"{"k":"a","t":1,"a":2,"b":"x"}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":1,"a":2,"b":"y"}"#) == .filtered)
        #expect(h.feed(#"{"k":"a","t":1,"a":1,"b":"x"}"#) == .filtered)
    }

    // MARK: group keys

    @Test func missingOrNullGroupFieldIsRejected() {
        let h = OperatorHarness(makeDefinition(groupBy: ["k", "customer.id"]))
        #expect(h.feed(#"{"k":"a","t":1}"#) == .rejected(.missingGroupField))
        #expect(h.feed(#"{"k":"a","t":1,"customer":{}}"#) == .rejected(.missingGroupField))
        #expect(h.feed(#"{"k":"a","t":1,"customer":{"id":null}}"#) == .rejected(.missingGroupField))
        #expect(h.feed(#"{"t":1,"customer":{"id":7}}"#) == .rejected(.missingGroupField))
        #expect(h.feed(#"{"k":"a","t":1,"customer":{"id":{}}}"#) == .rejected(.invalidGroupField))
        #expect(h.feed(#"{"k":"a","t":1,"customer":{"id":7}}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":2,"customer":{"id":7.0}}"#) == .counted)
        #expect(h.feed(#"{"k":"\u0061","t":3,"customer":{"id":7}}"#) == .counted)
        #expect(h.feed(#"{"k":"a","t":4,"customer":{"id":"7"}}"#) == .counted)
        h.op.closeAll()
        let got = Dictionary(uniqueKeysWithValues: h.take().map { (keyText($0.key), $0.values) })
        #expect(got == ["a|7.0": [3], "a|7": [1]])
    }

    @Test func emptyGroupByIsOneGlobalGroup() {
        let h = OperatorHarness(makeDefinition(groupBy: []))
        h.feed(#"{"k":"a","t":1}"#)
        h.feed(#"{"k":"b","t":2}"#)
        h.op.closeAll()
        #expect(h.take() == [WindowResult(key: [], start: 0, end: 60_000, isFinal: true, values: [2])])
    }

    /// A key stays interned between its windows; once idle keys outnumber live ones they are
    /// forgotten and their ids reused for other keys. Windows of keys that come back after, and
    /// of the keys that took over their ids, must still be their own.
    @Test func keysThatLeaveAndComeBackKeepTheirOwnWindows() {
        let h = OperatorHarness(makeDefinition(window: .tumbling(1000), aggregates: allAggregates))
        var expected: [String: Double] = [:]  // "key@start" → sum
        func feed(_ k: String, _ t: Int64, _ v: Int) {
            h.feed(#"{"k":"\#(k)","t":\#(t),"v":\#(v)}"#)
            expected["\(k)@\(t / 1000 * 1000)", default: 0] += Double(v)
        }
        var got: [String: Double] = [:]
        func collect() {
            for r in h.take() {
                let id = "\(keyText(r.key))@\(r.start)"
                #expect(got[id] == nil, "window \(id) emitted twice")
                #expect(r.values[0] == 1 && r.values[1] == 1, "window \(id): \(r.values)")
                got[id] = r.values[2]!
            }
        }
        // Window 0: 6,000 keys; windows 1 to 3: 10 keys (the others idle, then forgotten);
        // window 4 (the key arena compacted by then): the 6,000 back, under another spelling for half of them.
        for i in 0..<6000 { feed("a-key-with-a-longer-name-\(i)", 100, i) }
        for w in 1...3 { for i in 0..<10 { feed("a-key-with-a-longer-name-\(i)", Int64(w) * 1000 + 5, w * 100 + i) } }
        collect()
        for i in 0..<6000 { feed(i % 2 == 0 ? "a-key-with-a-longer-name-\(i)" : "other-\(i)", 4100, i + 1) }
        h.feed(#"{"k":"end","t":9000,"v":0}"#)
        expected["end@9000"] = 0
        h.op.closeAll()
        collect()
        #expect(got.count == expected.count)
        #expect(got == expected)
    }

    // MARK: update mode

    @Test func updateModeEmitsOneNonFinalResultPerChangedWindowThenTheFinal() {
        let h = OperatorHarness(makeDefinition(emit: .update))
        let a = key(.string("a")), b = key(.string("b"))
        h.feed(#"{"k":"a","t":1000}"#)
        h.feed(#"{"k":"a","t":2000}"#)
        h.feed(#"{"k":"b","t":3000}"#)
        h.op.flushUpdates()
        var got = h.take()
        #expect(got.count == 2)
        #expect(Set(got.map { "\($0.key) \($0.values) \($0.isFinal)" }) == ["\(a) [Optional(2.0)] false", "\(b) [Optional(1.0)] false"])
        h.op.flushUpdates()
        #expect(h.take().isEmpty, "nothing changed")
        h.feed(#"{"k":"a","t":4000}"#)
        h.op.flushUpdates()
        #expect(h.take() == [WindowResult(key: a, start: 0, end: 60_000, isFinal: false, values: [3])])
        h.feed(#"{"k":"a","t":60000}"#)  // closes [0, 60000)
        got = h.take()
        #expect(Set(got.map { "\($0.key) \($0.start) \($0.values) \($0.isFinal)" })
            == ["\(a) 0 [Optional(3.0)] true", "\(b) 0 [Optional(1.0)] true"])
        #expect(got.count == 2)
        h.op.flushUpdates()
        #expect(h.take() == [WindowResult(key: a, start: 60_000, end: 120_000, isFinal: false, values: [1])])
        h.op.closeAll()
        #expect(h.take() == [WindowResult(key: a, start: 60_000, end: 120_000, isFinal: true, values: [1])])
    }

    @Test func updateModeEmitsNoNonFinalResultForAWindowThatClosedBeforeTheFlush() {
        let h = OperatorHarness(makeDefinition(emit: .update))
        let a = key(.string("a"))
        h.feed(#"{"k":"a","t":1000}"#)
        h.feed(#"{"k":"a","t":2000}"#)
        h.feed(#"{"k":"a","t":61000}"#)  // closes [0, 60000) before any flush
        #expect(h.take() == [WindowResult(key: a, start: 0, end: 60_000, isFinal: true, values: [2])])
        h.op.flushUpdates()
        #expect(h.take() == [WindowResult(key: a, start: 60_000, end: 120_000, isFinal: false, values: [1])])
    }

    @Test func updateModeOnSlidingWindowsEmitsEachOpenWindowOfTheChangedSliceOnce() {
        let h = OperatorHarness(makeDefinition(window: .sliding(180_000, every: 60_000), emit: .update))
        h.feed(#"{"k":"a","t":130000}"#)
        h.feed(#"{"k":"a","t":131000}"#)
        h.op.flushUpdates()
        let got = h.take()
        #expect(got.map(\.start).sorted() == [0, 60_000, 120_000])
        #expect(got.allSatisfy { !$0.isFinal && $0.values == [2] })
        h.feed(#"{"k":"a","t":180000}"#)  // closes [0, 180000); the slice at 180000 is in 3 new windows
        #expect(h.take() == [WindowResult(key: key(.string("a")), start: 0, end: 180_000, isFinal: true, values: [2])])
        h.op.flushUpdates()
        let update = h.take()
        #expect(update.map(\.start).sorted() == [60_000, 120_000, 180_000], "only open windows holding the changed slice")
        #expect(Dictionary(uniqueKeysWithValues: update.map { ($0.start, $0.values) }) == [60_000: [3], 120_000: [3], 180_000: [1]])
    }

    // MARK: definitions from JSON

    @Test func specExampleDefinitionRunsEndToEnd() throws {
        let text = #"""
        {"name":"revenue_per_customer","source":"orders",
         "where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
         "groupBy":["customer.id"],"time":{"field":"timestamp","format":"iso8601"},
         "window":{"type":"sliding","size":"5m","slide":"1m","grace":"10s"},
         "aggregates":[{"name":"orders","fn":"count"},{"name":"revenue","fn":"sum","field":"total"},
           {"name":"avg_total","fn":"avg","field":"total"},{"name":"min_total","fn":"min","field":"total"},
           {"name":"max_total","fn":"max","field":"total"}]}
        """#
        let definition = try DefinitionParser.parse(Array(text.utf8), file: "spec.json").get()
        let h = OperatorHarness(definition)
        let e = { (type: String, id: String, total: String, time: String) in
            #"{"event_type":"\#(type)","customer":{"id":"\#(id)"},"total":\#(total),"timestamp":"\#(time)"}"#
        }
        #expect(h.feed(e("OrderCreated", "c1", "10", "2025-01-01T00:00:30Z")) == .counted)
        #expect(h.feed(e("OrderCreated", "c1", "2.5", "2025-01-01T00:01:30+00:00")) == .counted)
        #expect(h.feed(e("OrderPaid", "c1", "100", "2025-01-01T00:01:40Z")) == .filtered)
        #expect(h.feed(e("OrderCreated", "c2", "null", "2025-01-01T01:02:00Z")) == .counted)
        let start = utcMilliseconds(2025, 1, 1)
        // Watermark 01:02:00 closes every window of c1 (the last one ends at 00:06:00, + 10s grace).
        let results = h.take()
        #expect(results.count == 6)
        for r in results {
            #expect(GroupKey.decode(r.key) == [.string("c1")] && r.isFinal && r.end - r.start == 300_000)
            let both = r.start == start || r.start == start - 60_000 || r.start == start - 120_000 || r.start == start - 180_000
            let expected: [Double?] = both ? [2, 12.5, 6.25, 2.5, 10] : r.start == start + 60_000 ? [1, 2.5, 2.5, 2.5, 2.5] : [1, 10, 10, 10, 10]
            #expect(r.values == expected, "window \(r.start - start)")
        }
        #expect(Set(results.map { $0.start - start }) == [-240_000, -180_000, -120_000, -60_000, 0, 60_000])
    }

    // MARK: against a brute-force model

    struct ModelWindow: Equatable {
        var events = 0.0, present = 0.0, sum = 0.0, n = 0.0
        var min = Double.infinity, max = -Double.infinity
        var values: [Double?] { [events, present, n > 0 ? sum : nil, n > 0 ? sum / n : nil, n > 0 ? min : nil, n > 0 ? max : nil] }
    }

    @Test(arguments: [
        (WindowSpec.sliding(300_000, every: 60_000, grace: 30_000), UInt64(1)),
        (WindowSpec.sliding(300_000, every: 60_000, grace: 0), UInt64(2)),
        (WindowSpec.sliding(120_000, every: 40_000, grace: 45_000), UInt64(3)),
        (WindowSpec.sliding(60_000, every: 60_000, grace: 5_000), UInt64(4)),
        (WindowSpec.tumbling(90_000, grace: 20_000), UInt64(5)),
    ])
    func resultsEqualABruteForcePerWindowComputation(window: WindowSpec, seed: UInt64) {
        checkAgainstModel(window: window, seed: seed, partitions: 1)
    }

    @Test(arguments: [
        (WindowSpec.sliding(300_000, every: 60_000, grace: 30_000), UInt64(11)),
        (WindowSpec.tumbling(60_000, grace: 0), UInt64(12)),
    ])
    func resultsEqualABruteForceComputationWithTwoPartitions(window: WindowSpec, seed: UInt64) {
        checkAgainstModel(window: window, seed: seed, partitions: 2)
    }

    func checkAgainstModel(window: WindowSpec, seed: UInt64, partitions: Int32) {
        var rng = ScannerDifferentialTests.SplitMix64(state: seed)
        let h = OperatorHarness(makeDefinition(window: window, aggregates: allAggregates))
        for p in 0..<partitions { h.op.watermarks.assign(p, now: 0) }
        var partitionMax: [Int64?] = Array(repeating: nil, count: Int(partitions))
        var model: [String: ModelWindow] = [:]  // "key start" → values
        var watermark = Int64.min
        var emitted: [(WindowResult, Int64)] = []
        var seenKeys: Set<String> = []
        var late = 0, partial = 0
        var base: Int64 = -600_000  // crosses 1970
        for i in 0..<400 {
            base += Int64(rng.int(0...4000))
            // Disorder: most events up to 200 s behind or 60 s ahead, a few up to 700 s behind.
            let t = base + Int64(rng.chance(0.1) ? rng.int(-700_000...0) : rng.int(-200_000...60_000))
            let k = rng.pick(["a", "b", "c", "d"])
            let v: Double? = rng.chance(0.2) ? nil : Double(rng.int(-400...400)) / 4
            let vText = v.map { "\($0)" } ?? (rng.chance(0.5) ? "null" : "")
            let event = vText.isEmpty ? #"{"k":"\#(k)","t":\#(t)}"# : #"{"k":"\#(k)","t":\#(t),"v":\#(vText)}"#

            // The model: the watermark (smallest over partitions of the largest time in each) moves
            // first, then the event counts in its windows that are still open.
            let p = Int32(rng.below(Int(partitions)))
            partitionMax[Int(p)] = max(partitionMax[Int(p)] ?? t, t)
            if partitionMax.allSatisfy({ $0 != nil }) { watermark = max(watermark, partitionMax.map { $0! }.min()!) }
            var counted = false
            let starts = bruteForceWindowStarts(t, size: window.size, slide: window.slide)
            let open = starts.filter { $0 + window.size + window.grace > watermark }
            if open.isEmpty { late += 1 } else if open.count < starts.count { partial += 1 }
            for s in open {
                counted = true
                var w = model["\(k) \(s)", default: ModelWindow()]
                w.events += 1
                if let v { w.present += 1; w.sum += v; w.n += 1; w.min = min(w.min, v); w.max = max(w.max, v) }
                model["\(k) \(s)"] = w
            }
            let outcome = h.feed(event, partition: p)
            #expect(outcome == (counted ? .counted : .late), "event \(i): \(event) at watermark \(watermark)")
            seenKeys.insert(k)
            emitted += h.take().map { ($0, watermark) }
        }
        let beforeClose = emitted.count
        h.op.closeAll()
        emitted += h.take().map { ($0, Int64.max) }
        #expect(beforeClose > 0 && emitted.count > beforeClose, "the run must close windows both ways")
        #expect(late > 0, "the run must produce late events")
        if window.size > window.slide { #expect(partial > 0, "the run must produce events with only some windows open") }

        var got: [String: [Double?]] = [:]
        for (r, wm) in emitted {
            guard case .string(let k) = GroupKey.decode(r.key).first else { Issue.record("bad key"); continue }
            let id = "\(k) \(r.start)"
            #expect(got[id] == nil, "window \(id) emitted twice")
            got[id] = r.values
            #expect(r.isFinal && r.end == r.start + window.size)
            if wm != Int64.max {
                #expect(wm >= r.end + window.grace, "window \(id) closed at watermark \(wm), before end + grace")
            } else {
                #expect(watermark < r.end + window.grace, "window \(id) should have closed before the end of input")
            }
        }
        #expect(got.count == model.count)
        for (id, w) in model {
            #expect(got[id] == w.values, "window \(id)")
        }
    }
}

/// A window with more keys than `resultChunk` is handed over a chunk at a time as it is emitted
/// (the live engine's and `tally test`'s memory holds one chunk, not the whole window), tumbling
/// and sliding alike, every key's count once.
@Test(arguments: [WindowSpec.tumbling(60_000), WindowSpec.sliding(120_000, every: 60_000)])
func aLargeWindowIsHandedOverInChunks(window: WindowSpec) {
    let h = OperatorHarness(makeDefinition(window: window))
    h.op.resultChunk = 100
    var chunks: [Int] = []
    var counts: [String: [Int64: Double]] = [:]
    h.op.onResults = {
        chunks.append(h.op.results.count)
        for r in h.take() { counts[keyText(r.key), default: [:]][r.start] = r.values[0] }
    }
    for k in 0..<1_050 { h.feed(#"{"k":"k\#(k)","t":\#(1_000 + k)}"#) }
    h.feed(#"{"k":"k0","t":1000}"#)
    h.op.closeAll()
    for r in h.take() { counts[keyText(r.key), default: [:]][r.start] = r.values[0] }
    #expect(chunks.count >= 10 && chunks.allSatisfy { $0 == 100 }, "\(chunks)")
    let starts: [Int64] = window.isSliding ? [-60_000, 0] : [0]
    #expect(counts.count == 1_050)
    for k in 0..<1_050 {
        #expect(counts["k\(k)"] == Dictionary(uniqueKeysWithValues: starts.map { ($0, k == 0 ? 2.0 : 1.0) }), "k\(k)")
    }
}
