import Foundation
import Testing
@testable import Tally

/// The RocksDB store with a real database folder: restore round trip, closed-result retention,
/// fingerprints.
@Suite struct StateStoreTests {
    static func definition(size: String = "1m") -> Definition {
        try! parseDefinition("""
            {"name":"s","source":"t","groupBy":["k"],"time":{"field":"ts","format":"epoch_ms"},
             "window":{"type":"tumbling","size":"\(size)"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"total","fn":"sum","field":"v"}]}
            """).get()
    }

    static func feed(_ op: WindowOperator, _ scanner: EventScanner, _ events: [String]) {
        for e in events {
            let bytes = Array(e.utf8)
            _ = bytes.withUnsafeBytes { raw in scanner.scan(raw) { _, view in op.process(view) } }
        }
    }

    static func fresh(_ d: Definition) -> (WindowOperator, EventScanner) {
        var plan = FieldPlan()
        let op = WindowOperator(d, plan: &plan)
        return (op, EventScanner(plan: plan))
    }

    @Test func checkpointedStateRestoresOpenWindowsOffsetsAndWatermarks() throws {
        let dir = try TemporaryFolder("tally-store")
        let d = Self.definition()
        let (op, scanner) = Self.fresh(d)
        Self.feed(op, scanner, [
            #"{"k":"a","ts":1000,"v":1.5}"#, #"{"k":"b","ts":2000,"v":2}"#, #"{"k":"a","ts":61000,"v":4}"#,
            #"{"k":"a","ts":62000,"v":1}"#,
        ])
        let closed = op.results
        #expect(closed.count == 2)  // the first minute of a and b closed at watermark 61000
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(closed), expireBefore: nil, offsets: ["t": [0: 4]], stats: RunStats())], at: 123)
        store.close()

        let reopened = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let (op2, _) = Self.fresh(d)
        let r = try reopened.restore(op2)
        #expect(r.offsets == ["t": [0: 4]])
        #expect(r.watermarks == [0: 62000])
        #expect(r.closedThrough == op.closedThrough)
        #expect(reopened.lastCheckpoint() == 123)
        let key = GroupKey.encode([.string("a")])
        #expect(op2.openWindows(key: key) == op.openWindows(key: key))
        #expect(op2.openWindows(key: key).first?.values == [2, 5])
        let kept = reopened.closedResults("s", key: key, width: 2, starts: stride(from: 0, through: 0, by: 60_000))
        #expect(kept.map(\.start) == [0] && kept.first?.values == [1, 1.5])
        reopened.close()
    }

    /// More slices than the restore reader hands over at once (chunks of 4096, at most 4
    /// waiting): every one comes back with its values.
    @Test func aStateOfManyChunksRestoresEverySlice() throws {
        let dir = try TemporaryFolder("tally-store-many")
        let d = Self.definition()
        let (op, scanner) = Self.fresh(d)
        let n = 20_000
        Self.feed(op, scanner, (0..<n).map { #"{"k":"k\#($0)","ts":\#(1000 + $0 % 50_000),"v":\#($0)}"# })
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: ["t": [0: Int64(n)]], stats: RunStats())], at: 1)
        store.close()

        let reopened = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let (op2, _) = Self.fresh(d)
        let r = try reopened.restore(op2)
        #expect(r.slices == n)
        #expect(op2.liveAccumulators == n)
        for i in [0, 1, 4095, 4096, 12_345, n - 1] {
            let key = GroupKey.encode([.string("k\(i)")])
            #expect(op2.openWindows(key: key).first?.values == [1, Double(i)], "key k\(i)")
        }
        reopened.close()
    }

    /// A sliding definition's keys each in several slices: restored in groups (see
    /// `WindowOperator.restore`), a key met again in a later slice, within a group or not, is the
    /// same key; the restored operator holds as many keys and accumulators as the checkpointed
    /// one and closes the same windows with the same values.
    @Test func slicesOfOneKeyInManySlicesRestoreToTheSameWindows() throws {
        let dir = try TemporaryFolder("tally-store-sliding")
        let d = try parseDefinition("""
            {"name":"s","source":"t","groupBy":["k"],"time":{"field":"ts","format":"epoch_ms"},
             "window":{"type":"sliding","size":"5m","slide":"1m","grace":"2h"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"top","fn":"max","field":"v"}]}
            """).get()
        let (op, scanner) = Self.fresh(d)
        // 7 keys (a group of 32 spans several slices), 300 minutes of one event per 10 s; the
        // grace keeps two hours of slices open.
        let events = (0..<(300 * 6)).map { i in #"{"k":"k\#(i * 5 % 7)","ts":\#(i * 10_000),"v":\#(i % 97)}"# }
        Self.feed(op, scanner, events)
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: ["t": [0: 1800]], stats: RunStats())], at: 1)
        store.close()

        let reopened = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let (op2, _) = Self.fresh(d)
        let r = try reopened.restore(op2)
        reopened.close()
        #expect(r.slices == op.liveAccumulators && r.slices > 32)
        #expect(op2.residentSize == op.residentSize)
        op.results.removeAll()
        op.closeAll()
        op2.closeAll()
        func sorted(_ r: [WindowResult]) -> [WindowResult] {
            r.sorted { $0.start != $1.start ? $0.start < $1.start : $0.key.lexicographicallyPrecedes($1.key) }
        }
        #expect(op.results.count > 7)
        #expect(sorted(Array(op2.results)) == sorted(Array(op.results)))
    }

    /// A slice whose values do not fit the definition (a damaged store) stops the restore with a
    /// clear error; the reader thread ends.
    @Test func aDamagedSliceIsAClearErrorAtRestore() throws {
        let dir = try TemporaryFolder("tally-store-damaged")
        let d = Self.definition()
        let (op, scanner) = Self.fresh(d)
        Self.feed(op, scanner, (0..<10_000).map { #"{"k":"k\#($0)","ts":1000,"v":1}"# })
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: [:], stats: RunStats())], at: 1)
        // One double more than the layout has, sorted after most of the good slices.
        let stride = op.layout.stride
        try store.db.put(store.families["s"]!, StateKeys.slice(key: GroupKey.encode([.string("zz")]), start: 0), [UInt8](repeating: 0, count: 8 * (stride + 1)))
        store.close()

        let reopened = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let (op2, _) = Self.fresh(d)
        #expect(throws: StateError.self) { _ = try reopened.restore(op2) }
        do { _ = try reopened.restore(Self.fresh(d).0) } catch {
            #expect("\(error)".contains("\(stride + 1) values, expected \(stride)"), "\(error)")
        }
        reopened.close()
    }

    @Test func closedResultsLeaveTheStoreAfterTheRetention() throws {
        let dir = try TemporaryFolder("tally-store")
        let d = Self.definition()
        let (op, scanner) = Self.fresh(d)
        Self.feed(op, scanner, [#"{"k":"a","ts":1000,"v":1}"#, #"{"k":"a","ts":200000,"v":1}"#])
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let key = GroupKey.encode([.string("a")])
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(op.results), expireBefore: nil, offsets: [:], stats: RunStats())], at: 1)
        #expect(store.closedResults("s", key: key, width: 2, starts: stride(from: 0, through: 0, by: 60_000)).count == 1)
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: 60_000, offsets: [:], stats: RunStats())], at: 2)
        #expect(store.closedResults("s", key: key, width: 2, starts: stride(from: 0, through: 0, by: 60_000)).isEmpty)
        store.close()
    }

    @Test func closedResultsOfAWindowHandedOverInPiecesAreAllKept() throws {
        // Sliding windows of a late-closing partition, or update flushes, can interleave starts:
        // a window's bucket blobs must hold every key however its results were split.
        let dir = try TemporaryFolder("tally-store")
        let d = Self.definition()
        let (op, _) = Self.fresh(d)
        let keys = (0..<300).map { GroupKey.encode([.string("k\($0)")]) }
        func result(_ k: Int, _ start: Int64) -> WindowResult {
            WindowResult(key: keys[k], start: start, end: start + 60_000, isFinal: true, values: [Double(k), start == 0 ? nil : 1])
        }
        var batch = ClosedResultsBatch()
        for k in 0..<100 { batch.append(result(k, 0)) }
        for k in 0..<300 { batch.append(result(k, 60_000)) }
        for k in 100..<300 { batch.append(result(k, 0)) }
        #expect(batch.count == 600)
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        try store.checkpoint([.init(op: op, closed: batch, expireBefore: nil, offsets: [:], stats: RunStats())], at: 1)
        for k in [0, 99, 100, 299] {
            let kept = store.closedResults("s", key: keys[k], width: 2, starts: stride(from: 0, through: 60_000, by: 60_000))
            #expect(kept.map(\.start) == [0, 60_000])
            #expect(kept.map(\.values) == [[Double(k), nil], [Double(k), 1]])
        }
        store.close()
    }

    @Test func anIncompatibleDefinitionIsRefusedUnlessReset() throws {
        let dir = try TemporaryFolder("tally-store")
        try StateStore(path: dir.url.path, definitions: [Self.definition()], reset: []).close()
        do {
            _ = try StateStore(path: dir.url.path, definitions: [Self.definition(size: "5m")], reset: [])
            Issue.record("a changed window size must be refused")
        } catch {
            #expect(error.description.contains("definition s changed incompatibly"))
            #expect(error.description.contains("--reset-state s"))
        }
        try StateStore(path: dir.url.path, definitions: [Self.definition(size: "5m")], reset: ["s"]).close()
    }

    @Test func aFileInPlaceOfTheStateFolderIsAClearError() throws {
        let dir = try TemporaryFolder("tally-store")
        let file = dir.url.appendingPathComponent("state")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: StateError.self) { try StateStore(path: file.path, definitions: [Self.definition()], reset: []) }
        do { _ = try StateStore(path: file.path, definitions: [Self.definition()], reset: []) } catch {
            #expect(error.description.contains("is a file"))
        }
    }
}
