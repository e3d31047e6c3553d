import Foundation
import Testing
@testable import Tally

/// Spilled parts kept in memory, as the state store keeps them in RocksDB.
final class MemorySpill: SpillStore {
    var parts: [Int64: [(key: [UInt8], values: [Double])]] = [:]
    var partIds: Set<String> = []

    func parts(slice: Int64) -> any SpillCursor {
        MemoryCursor((parts[slice] ?? []).sorted { a, b in
            a.key.withUnsafeBytes { x in b.key.withUnsafeBytes { y in spillOrder(x, y) < 0 } }
        })
    }

    func forEachPart(slice: Int64, key: [UInt8], _ body: (UnsafeBufferPointer<Double>) -> Void) {
        for p in parts[slice] ?? [] where p.key == key { p.values.withUnsafeBufferPointer { body($0) } }
    }

    /// A checkpoint of `op` as the state store takes it (only the spill matters here).
    func checkpoint(_ op: WindowOperator) {
        op.drainChanges(
            put: { _, _, _ in }, delete: { _, _ in },
            spill: { key, slice, part, values in
                let id = "\(keyText(key))/\(slice)/\(part)"
                #expect(!self.partIds.contains(id), "part \(id) spilled twice")
                self.partIds.insert(id)
                self.parts[slice, default: []].append((key, Array(values)))
            },
            dropSpilled: { self.parts[$0] = nil })
    }
}

final class MemoryCursor: SpillCursor {
    let parts: [(key: [UInt8], values: [Double])]
    var index = 0
    let keyBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    let valueBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 16)
    init(_ parts: [(key: [UInt8], values: [Double])]) { self.parts = parts }
    deinit {
        keyBuffer.deallocate()
        valueBuffer.deallocate()
    }
    var key: UnsafeRawBufferPointer? {
        guard index < parts.count else { return nil }
        let k = parts[index].key
        k.withUnsafeBytes { keyBuffer.copyMemory(from: $0) }
        return UnsafeRawBufferPointer(rebasing: keyBuffer[0..<k.count])
    }
    var values: UnsafeBufferPointer<Double> {
        let v = parts[index].values
        for (i, x) in v.enumerated() { valueBuffer[i] = x }
        return UnsafeBufferPointer(rebasing: valueBuffer[0..<v.count])
    }
    func next() { index += 1 }
}

/// Order events with many keys, a little disorder, and a few fields missing.
func spillWorkload(events: Int, keys: Int, seed: UInt64) -> [String] {
    var rng = SplitMix(seed: seed)
    var out: [String] = []
    for i in 0..<events {
        let t = Int64(i) * 20 + Int64(rng.next() % 3000)  // 50 events/s of event time, 3 s of disorder
        let k = rng.next() % UInt64(keys)
        let v = rng.next() % 7 == 0 ? "" : #","v":\#(Double(rng.next() % 100_000) / 100)"#
        out.append(#"{"k":"c\#(k)","t":\#(t)\#(v)}"#)
    }
    return out
}

/// Results by "key@start", checking that none comes twice.
func byWindow(_ results: [WindowResult]) -> [String: [Double?]] {
    var out: [String: [Double?]] = [:]
    for r in results {
        let id = "\(keyText(r.key))@\(r.start)"
        #expect(out[id] == nil, "\(id) emitted twice")
        out[id] = r.values
    }
    return out
}

func expectSameValues(_ a: [String: [Double?]], _ b: [String: [Double?]], _ what: String) {
    #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) windows")
    for (id, va) in a {
        guard let vb = b[id] else {
            Issue.record("\(what): \(id) missing")
            continue
        }
        let same = va.count == vb.count && zip(va, vb).allSatisfy { x, y in
            switch (x, y) {
            case (nil, nil): true
            case (let x?, let y?): abs(x - y) <= 1e-9 * max(1, abs(x))
            default: false
            }
        }
        #expect(same, "\(what): \(id) \(va) vs \(vb)")
    }
}

@Suite struct SpillTests {
    static func definition(_ window: WindowSpec) -> Definition {
        makeDefinition(window: window, aggregates: [
            AggregateSpec(name: "n", fn: .count, field: nil), AggregateSpec(name: "total", fn: .sum, field: FieldPath("v")!),
            AggregateSpec(name: "low", fn: .min, field: FieldPath("v")!), AggregateSpec(name: "high", fn: .max, field: FieldPath("v")!),
            AggregateSpec(name: "mean", fn: .avg, field: FieldPath("v")!),
        ])
    }

    static let windows: [WindowSpec] = [.tumbling(60_000, grace: 5_000), .sliding(300_000, every: 60_000, grace: 5_000)]

    /// Under a budget a fifth of what the state needs, an operator that spills at every
    /// checkpoint emits what one without a budget emits, answers key queries the same way
    /// meanwhile, and keeps its memory under the budget after each checkpoint.
    @Test(arguments: windows)
    func spillingChangesNoResult(_ window: WindowSpec) throws {
        let d = Self.definition(window)
        let plain = OperatorHarness(d), spilling = OperatorHarness(d)
        let spill = MemorySpill()
        spilling.op.spillStore = spill
        let events = spillWorkload(events: 40_000, keys: 4_000, seed: 7)
        var peak = 0
        for e in events.prefix(3_000) { plain.feed(e); spilling.feed(e) }
        let budget = plain.op.estimatedBytes / 5
        spilling.op.memoryBudget = budget
        var expected: [WindowResult] = [], got: [WindowResult] = []
        // Windows combined from parts come in chunks.
        var chunks = 0
        spilling.op.resultChunk = 50
        spilling.op.onResults = {
            chunks += 1
            got += spilling.take()
        }
        for (i, e) in events.enumerated() {
            plain.feed(e)
            spilling.feed(e)
            expected += plain.take()
            got += spilling.take()
            if i % 500 == 499 {
                spill.checkpoint(spilling.op)
                #expect(spilling.op.estimatedBytes <= budget, "after checkpoint \(i / 500): \(spilling.op.estimatedBytes) > \(budget)")
                peak = max(peak, spilling.op.estimatedBytes)
            }
            if i % 5_000 == 4_999 {
                for k in 0..<40 {
                    let key = key(.string("c\(k * 97 % 4_000)"))
                    expectSameValues(
                        byWindow(plain.op.openWindows(key: key)), byWindow(spilling.op.openWindows(key: key)), "open windows of c\(k * 97 % 4_000) at event \(i)")
                }
            }
        }
        plain.op.closeAll()
        spilling.op.closeAll()
        expected += plain.take()
        got += spilling.take()
        #expect(spilling.op.evictedTotal > 10_000)
        #expect(chunks > 20)
        #expect(expected.count > 20_000)
        expectSameValues(byWindow(expected), byWindow(got), "final results")
        // Closed slices take their parts with them at the next checkpoint.
        spill.checkpoint(spilling.op)
        #expect(spill.parts.isEmpty)
    }

    /// Update mode: each checkpoint's updates carry the spilled parts too.
    @Test func updatesIncludeSpilledParts() {
        var d = Self.definition(.tumbling(60_000, grace: 5_000))
        d.emit = .update
        let plain = OperatorHarness(d), spilling = OperatorHarness(d)
        let spill = MemorySpill()
        spilling.op.spillStore = spill
        spilling.op.memoryBudget = 20_000
        var latestPlain: [String: [Double?]] = [:], latestSpilling: [String: [Double?]] = [:]
        for (i, e) in spillWorkload(events: 10_000, keys: 1_000, seed: 11).enumerated() {
            plain.feed(e)
            spilling.feed(e)
            if i % 400 == 399 {
                plain.op.flushUpdates()
                spilling.op.flushUpdates()
                for r in plain.take() { latestPlain["\(keyText(r.key))@\(r.start)"] = r.values }
                for r in spilling.take() { latestSpilling["\(keyText(r.key))@\(r.start)"] = r.values }
                spill.checkpoint(spilling.op)
            }
        }
        #expect(spilling.op.evictedTotal > 0)
        expectSameValues(latestPlain, latestSpilling, "latest updates")
    }
}
