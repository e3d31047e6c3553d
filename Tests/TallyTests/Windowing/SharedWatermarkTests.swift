import Testing
@testable import Tally

/// Shards of one definition (an operator per partition, as scale-out runs them) that share a
/// `SharedWatermark` give what one operator over every partition gives: the same outcome for
/// each event (counted, late…) and the same final results, when every key stays on its partition.
@Suite struct SharedWatermarkTests {
    /// Events over `partitions` partitions, each key always on the same one, times out of order
    /// by up to ~90 s with some events far behind (late once their windows closed).
    static func events(count: Int, partitions: Int, seed: UInt64) -> [(partition: Int32, json: String)] {
        var rng = SplitMix(seed: seed)
        var clock: [Int64] = Array(repeating: 1_000_000, count: partitions)
        var out: [(Int32, String)] = []
        for _ in 0..<count {
            let k = Int(rng.next() % 40)
            let p = k % partitions
            clock[p] += Int64(rng.next() % 4_000)
            var t = clock[p] - Int64(rng.next() % 90_000)
            if rng.next() % 50 == 0 { t -= 400_000 }
            let v = Double(rng.next() % 10_000) / 100
            out.append((Int32(p), #"{"k":"key\#(k)","t":\#(t),"v":\#(v)}"#))
        }
        return out
    }

    @Test(arguments: [WindowSpec.tumbling(60_000, grace: 5_000), .sliding(120_000, every: 30_000, grace: 1_000)])
    func shardsSharingTheWatermarkActAsOneOperator(window: WindowSpec) {
        let definition = makeDefinition(
            window: window,
            aggregates: [
                AggregateSpec(name: "n", fn: .count, field: nil),
                AggregateSpec(name: "s", fn: .sum, field: FieldPath("v")!),
                AggregateSpec(name: "m", fn: .max, field: FieldPath("v")!),
            ])
        let partitions = 3
        let single = OperatorHarness(definition)
        for p in 0..<partitions { single.op.watermarks.assign(Int32(p), now: 0) }

        var plan = FieldPlan()
        let shared = SharedWatermark()
        let shards = (0..<partitions).map { _ in WindowOperator(definition, plan: &plan, watermark: shared) }
        let scanner = EventScanner(plan: plan)
        for p in 0..<partitions { shards[p].watermarks.assign(Int32(p), now: 0) }
        #expect(shards.allSatisfy { $0.sharedWatermark === shared })

        var singleResults: [WindowResult] = []
        var shardResults: [WindowResult] = []
        var outcomes: (single: [EventOutcome], shards: [EventOutcome]) = ([], [])
        for (i, e) in Self.events(count: 6_000, partitions: partitions, seed: 7).enumerated() {
            outcomes.single.append(single.feed(e.json, partition: e.partition))
            singleResults += single.take()
            let op = shards[Int(e.partition)]
            let outcome = Array(e.json.utf8).withUnsafeBytes { raw in
                scanner.scan(raw) { _, view in op.process(view, partition: e.partition) }
            }
            outcomes.shards.append(outcome)
            // The engine lets every shard catch up with the watermark once per polled batch.
            if i % 100 == 99 { for s in shards { s.refreshWatermark(now: 0, idleTimeout: nil) } }
            for s in shards {
                shardResults += s.results
                s.results.removeAll()
            }
        }
        let differing = zip(outcomes.single, outcomes.shards).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(differing.isEmpty, "\(differing.count) events differ, first at \(differing.first.map { "\($0.offset): \($0.element)" } ?? "")")
        #expect(outcomes.single.contains(.late), "the stream must have late events for this test to mean anything")
        #expect(shards.allSatisfy { $0.watermark == single.op.watermark })
        let closedBeforeTheEnd = singleResults.count
        #expect(closedBeforeTheEnd > 100)
        single.op.closeAll()
        singleResults += single.take()
        for s in shards {
            s.closeAll()
            shardResults += s.results
        }
        func sorted(_ r: [WindowResult]) -> [String] {
            r.map { "\(keyText($0.key)) \($0.start) \($0.isFinal) \($0.values.map { $0.map { "\($0)" } ?? "null" })" }.sorted()
        }
        let (expected, got) = (sorted(singleResults), sorted(shardResults))
        let missing = Set(expected).subtracting(got), extra = Set(got).subtracting(expected)
        #expect(expected.count == got.count && missing.isEmpty && extra.isEmpty,
                "\(got.count) results for \(expected.count); missing e.g. \(missing.first ?? "-"), extra e.g. \(extra.first ?? "-")")
    }

    /// Scale-out hands a partition to an instance whose other partitions are further on: the
    /// watermark goes back to the joining partition's time (its windows close as it catches up,
    /// not at once), windows already closed elsewhere stay closed, and a joining partition with
    /// no time holds the watermark back only until the idle timeout.
    @Test func aJoiningPartitionNeitherClosesItsWindowsEarlyNorHoldsThemForever() {
        let definition = makeDefinition(window: .tumbling(60_000))
        var plan = FieldPlan()
        let shared = SharedWatermark()
        let owned = WindowOperator(definition, plan: &plan, watermark: shared)
        let scanner = EventScanner(plan: plan)
        func feed(_ op: WindowOperator, _ p: Int32, _ json: String, now: Int64 = 0) -> EventOutcome {
            Array(json.utf8).withUnsafeBytes { raw in scanner.scan(raw) { _, view in op.process(view, partition: p, now: now) } }
        }
        shared.tracker.assign(0, now: 0)
        #expect(feed(owned, 0, #"{"k":"a","t":10000}"#) == .counted)
        #expect(feed(owned, 0, #"{"k":"a","t":200000}"#) == .counted)
        #expect(owned.results.map(\.start) == [0] && shared.watermark == 200_000)

        // Partition 1 arrives from another instance, its shard restored at 70 s.
        let joined = WindowOperator(definition, plan: &plan, watermark: shared)
        shared.tracker.assign(1, now: 0, restored: 70_000)
        #expect(shared.watermark == 70_000, "the joining partition holds the watermark back")
        #expect(feed(joined, 1, #"{"k":"b","t":100000}"#) == .counted, "not late: [60 s, 120 s) is open for partition 1")
        #expect(feed(owned, 0, #"{"k":"a","t":30000}"#) == .late, "partition 0's window [0, 60 s) stays closed")
        #expect(feed(joined, 1, #"{"k":"b","t":130000}"#) == .counted)
        joined.refreshWatermark(now: 0, idleTimeout: nil)
        owned.refreshWatermark(now: 0, idleTimeout: nil)
        #expect(joined.results.map(\.start) == [60_000], "closed once partition 1 passed its end")

        // Partition 2 arrives with no time: it holds the watermark back until it is idle.
        let silent = WindowOperator(definition, plan: &plan, watermark: shared)
        _ = silent
        shared.tracker.assign(2, now: 1_000)
        #expect(shared.watermark == nil)
        #expect(shared.tracker.expireIdle(now: 5_000, timeout: 10_000) == nil)
        shared.tracker.touch(0, now: 10_500)
        shared.tracker.touch(1, now: 10_500)
        #expect(shared.tracker.expireIdle(now: 11_000, timeout: 10_000) == 130_000, "idle: left out")
    }
}
