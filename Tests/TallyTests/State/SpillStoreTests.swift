import Foundation
import RocksDB
import Testing
@testable import Tally

/// Spilling through the RocksDB store: parts written with checkpoints, read back for windows,
/// kept across a restart, dropped with their slices.
@Suite struct SpillStoreTests {
    static func checkpoint(_ store: StateStore, _ op: WindowOperator, at t: Int64) throws {
        try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: [:], stats: RunStats())], at: t)
    }

    static func spilledEntries(_ path: String, _ name: String) throws -> Int {
        let db = try Database(path: path, columnFamilies: ["_meta", "q_\(name)"])
        defer { db.close() }
        var n = 0
        try db.forEach(in: db.columnFamily(named: "q_\(name)")!, from: [0x03], to: [0x04]) { _, _ in n += 1 }
        return n
    }

    /// An engine stopped with part of its state spilled, restarted, and run to the end emits
    /// what one run without a budget emits; once every window closed, no part is left.
    @Test func spilledStateSurvivesARestartAndLeavesWithItsSlices() throws {
        let dir = try TemporaryFolder("tally-spill")
        let d = SpillTests.definition(.sliding(300_000, every: 60_000, grace: 5_000))
        let events = spillWorkload(events: 24_000, keys: 3_000, seed: 5)
        let reference = OperatorHarness(d)
        for e in events { reference.feed(e) }
        reference.op.closeAll()
        let expected = byWindow(reference.take())

        var got: [WindowResult] = []
        let first = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let before = OperatorHarness(d)
        before.op.spillStore = first.spillStore(for: before.op)
        before.op.memoryBudget = 60_000
        for (i, e) in events.prefix(12_000).enumerated() {
            before.feed(e)
            got += before.take()
            if i % 1_000 == 999 { try Self.checkpoint(first, before.op, at: Int64(i)) }
        }
        #expect(before.op.evictedTotal > 1_000)
        #expect(first.spillFailure() == nil)
        first.close()
        #expect(try Self.spilledEntries(dir.url.path, d.name) > 0)

        let second = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        let after = OperatorHarness(d)
        after.op.spillStore = second.spillStore(for: after.op)
        after.op.memoryBudget = 60_000
        let restored = try second.restore(after.op)
        #expect(restored.spilledSlices > 0)
        #expect(after.op.spillSequence == before.op.spillSequence)
        for (i, e) in events.dropFirst(12_000).enumerated() {
            after.feed(e)
            got += after.take()
            if i % 1_000 == 999 { try Self.checkpoint(second, after.op, at: Int64(12_000 + i)) }
        }
        after.op.closeAll()
        got += after.take()
        try Self.checkpoint(second, after.op, at: 99_999)
        #expect(second.spillFailure() == nil)
        second.close()
        expectSameValues(expected, byWindow(got), "results across the restart")
        #expect(try Self.spilledEntries(dir.url.path, d.name) == 0)
    }

    /// The engine writes a checkpoint on another thread while it goes on: a window read in the
    /// meantime waits for the write that holds its evicted parts, then counts them once.
    @Test func aReadDuringTheWriteOfEvictedPartsWaitsForIt() throws {
        let dir = try TemporaryFolder("tally-spill-inflight")
        let d = SpillTests.definition(.tumbling(3_600_000))
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        defer { store.close() }
        let h = OperatorHarness(d), plain = OperatorHarness(d)
        h.op.spillStore = store.spillStore(for: h.op)
        h.op.memoryBudget = 20_000
        for e in spillWorkload(events: 2_000, keys: 500, seed: 3) {
            h.feed(e)
            plain.feed(e)
        }
        let prepared = try store.prepare([.init(op: h.op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: [:], stats: RunStats())], at: 1)
        #expect(h.op.evictedTotal > 0)
        final class Write: @unchecked Sendable {  // handed to the writer thread, read after it signalled
            let store: StateStore, prepared: StateStore.Prepared
            var started = false
            init(_ store: StateStore, _ prepared: StateStore.Prepared) { self.store = store; self.prepared = prepared }
        }
        let write = Write(store, prepared)
        Thread {
            Thread.sleep(forTimeInterval: 0.3)
            write.started = true
            try! write.store.write(write.prepared)
        }.start()
        let started = Date()
        for k in 0..<50 {
            let key = key(.string("c\(k)"))
            expectSameValues(byWindow(plain.op.openWindows(key: key)), byWindow(h.op.openWindows(key: key)), "c\(k)")
        }
        #expect(write.started)
        #expect(Date().timeIntervalSince(started) >= 0.25)
        #expect(store.spillFailure() == nil)
    }

    /// A damaged part is not skipped: the store reports it, naming the definition and the way out.
    @Test func aDamagedPartIsReported() throws {
        let dir = try TemporaryFolder("tally-spill-damaged")
        let d = SpillTests.definition(.tumbling(60_000))
        do {
            let db = try Database(path: dir.url.path, columnFamilies: ["_meta", "q_\(d.name)"])
            try db.put(db.columnFamily(named: "q_\(d.name)")!, StateKeys.spill(key: key(.string("a")), slice: 0, part: 0), [1, 2, 3])
            db.close()
        }
        let store = try StateStore(path: dir.url.path, definitions: [d], reset: [])
        defer { store.close() }
        let h = OperatorHarness(d)
        h.op.spillStore = store.spillStore(for: h.op)
        _ = try store.restore(h.op)
        #expect(h.op.spilledSliceCount == 1)
        _ = h.op.openWindows(key: key(.string("a")))
        let failure = try #require(store.spillFailure())
        #expect(failure.contains("test") && failure.contains("--reset-state"))
    }
}
