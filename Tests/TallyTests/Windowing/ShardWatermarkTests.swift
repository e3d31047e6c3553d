import Testing
@testable import Tally

/// Each shard of a definition (an operator per partition, as scale-out runs them) keeps its own
/// watermark: an event is late only by the event times its own shard has seen, so shards that run
/// at different paces, or a shard taken over by an instance whose other shards are far ahead,
/// count every event that is in time within its own partition.
@Suite struct ShardWatermarkTests {
    /// Events over `partitions` partitions, each key on one partition; partition p's clock runs
    /// `p + 1` times as fast as partition 0's, and events are out of order by less than `grace`.
    static func events(count: Int, partitions: Int, grace: Int64, seed: UInt64) -> [(partition: Int32, json: String, key: String, time: Int64, v: Double)] {
        var rng = SplitMix(seed: seed)
        var clock: [Int64] = Array(repeating: 1_000_000, count: partitions)
        var out: [(Int32, String, String, Int64, Double)] = []
        for _ in 0..<count {
            let k = Int(rng.next() % 40)
            let p = k % partitions
            clock[p] += Int64(rng.next() % 2_000) * Int64(p + 1)
            let t = clock[p] - Int64(rng.next() % UInt64(grace))
            let v = Double(rng.next() % 10_000) / 100
            out.append((Int32(p), #"{"k":"key\#(k)","t":\#(t),"v":\#(v)}"#, "key\(k)", t, v))
        }
        return out
    }

    @Test(arguments: [WindowSpec.tumbling(60_000, grace: 5_000), .sliding(120_000, every: 30_000, grace: 5_000)])
    func shardsAtDifferentPacesCountEveryEventInTimeWithinItsPartition(window: WindowSpec) {
        let definition = makeDefinition(
            window: window,
            aggregates: [AggregateSpec(name: "n", fn: .count, field: nil), AggregateSpec(name: "s", fn: .sum, field: FieldPath("v")!)])
        let partitions = 3
        var plan = FieldPlan()
        let shards = (0..<partitions).map { _ in WindowOperator(definition, plan: &plan) }
        let scanner = EventScanner(plan: plan)
        for p in 0..<partitions { shards[p].watermarks.assign(Int32(p), now: 0) }
        let events = Self.events(count: 6_000, partitions: partitions, grace: 5_000, seed: 7)
        var results: [WindowResult] = []
        for (i, e) in events.enumerated() {
            let op = shards[Int(e.partition)]
            let outcome = Array(e.json.utf8).withUnsafeBytes { raw in scanner.scan(raw) { _, view in op.process(view, partition: e.partition) } }
            #expect(outcome == .counted, "event \(i) of partition \(e.partition) at \(e.time)")
            if i % 100 == 99 { for s in shards { s.refreshWatermark(now: 0, idleTimeout: nil) } }
            for s in shards {
                results += s.results
                s.results.removeAll()
            }
        }
        #expect(shards[2].watermark! > shards[0].watermark! + 1_000_000, "the shards ran at different paces")
        #expect(results.count > 100, "windows closed while the stream ran")
        for s in shards {
            s.closeAll()
            results += s.results
        }
        // Reference: every event in every window of its time.
        var expected: [String: (n: Int, s: Double)] = [:]
        for e in events {
            var start = WindowMath.floorMultiple(e.time, window.slide) - window.size + window.slide
            while start <= e.time {
                if start + window.size > e.time { expected["\(e.key) \(start)", default: (0, 0)].n += 1; expected["\(e.key) \(start)"]!.s += e.v }
                start += window.slide
            }
        }
        var got: [String: (n: Int, s: Double)] = [:]
        for r in results { got["\(keyText(r.key)) \(r.start)"] = (Int(r.values[0]!), r.values[1]!) }
        #expect(got.count == expected.count)
        let wrong = expected.filter { k, v in got[k].map { $0.n != v.n || abs($0.s - v.s) > 1e-6 } ?? true }
        #expect(wrong.isEmpty, "\(wrong.count) windows differ, e.g. \(wrong.first.map { "\($0.key): \($0.value) got \(String(describing: got[$0.key]))" } ?? "")")
    }

    /// An instance whose own shard is at 200 s takes over a shard stored at 70 s: the shard goes
    /// on from its own watermark (its windows close as it catches up, not at once), and the
    /// instance's shard neither moves back nor reopens what it closed.
    @Test func aShardTakenOverByAnInstanceAheadKeepsItsOwnWatermark() {
        let definition = makeDefinition(window: .tumbling(60_000))
        var plan = FieldPlan()
        let owned = WindowOperator(definition, plan: &plan)
        let scanner = EventScanner(plan: plan)
        func feed(_ op: WindowOperator, _ p: Int32, _ json: String) -> EventOutcome {
            Array(json.utf8).withUnsafeBytes { raw in scanner.scan(raw) { _, view in op.process(view, partition: p) } }
        }
        owned.watermarks.assign(0, now: 0)
        #expect(feed(owned, 0, #"{"k":"a","t":10000}"#) == .counted)
        #expect(feed(owned, 0, #"{"k":"a","t":200000}"#) == .counted)
        #expect(owned.results.map(\.start) == [0] && owned.watermark == 200_000)

        // Partition 1's shard arrives from another instance, restored at 70 s with [0, 60 s) closed.
        let moved = WindowOperator(definition, plan: &plan)
        moved.restore(closedThrough: 0)
        moved.watermarks.assign(1, now: 0, restored: 70_000)
        moved.refreshWatermark(now: 0, idleTimeout: nil)
        #expect(moved.watermark == 70_000 && moved.results.isEmpty, "it does not take the instance's 200 s")
        #expect(feed(moved, 1, #"{"k":"b","t":65000}"#) == .counted, "replayed: [60 s, 120 s) is open in its shard")
        #expect(feed(moved, 1, #"{"k":"b","t":100000}"#) == .counted)
        #expect(feed(moved, 1, #"{"k":"b","t":50000}"#) == .late, "its own closed window stays closed")
        #expect(feed(owned, 0, #"{"k":"a","t":30000}"#) == .late, "partition 0's window [0, 60 s) stays closed")
        #expect(owned.watermark == 200_000, "the instance's shard does not move back")
        #expect(feed(moved, 1, #"{"k":"b","t":130000}"#) == .counted)
        #expect(moved.results.map(\.start) == [60_000], "closed once partition 1 itself passed its end")
        #expect(moved.results.first?.values.first == 2)
    }
}
