import Testing
@testable import Tally

/// The pure parts of repartitioning: where a router sends an event, the routed key, the ticks,
/// and a repartitioned shard's skipping of events it already counted and its watermark lanes.
@Suite struct RouterTests {
    static let definition = try! parseDefinition("""
        {"name":"live","source":"orders","groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
         "window":{"type":"tumbling","size":"1m"},"aggregates":[{"name":"n","fn":"count"}],"repartition":true}
        """).get()

    /// A router over 6 repartition partitions, and a scanner of the source's fields.
    static func router() -> (Router, EventScanner) {
        var plan = FieldPlan()
        let router = Router(definition, topic: "g-live-repartition", plan: &plan)
        router.partitions = 6
        return (router, EventScanner(plan: plan))
    }

    /// Routes one event as the engine does; returns its repartition partition.
    static func route(_ json: String, _ router: Router, _ scanner: EventScanner, from sp: Int32, offset: Int64 = 0) -> Int32 {
        Array(json.utf8).withUnsafeBytes { raw in
            scanner.scan(raw) { outcome, view in
                let object: EventView?
                if case .object = outcome { object = view } else { object = nil }
                router.observe(object, sourcePartition: sp, offset: offset, recordTime: nil)
                return router.partition(of: object, sourcePartition: sp)
            }
        }
    }

    @Test func aGroupKeysEventsGoToOnePartitionWhateverSourcePartitionTheyComeFrom() {
        let (router, scanner) = Self.router()
        for c in 0..<40 {
            // Kafka's default partitioner over the group key's bytes, computed independently.
            let expected = (Murmur2.hash(GroupKey.encode([.string("c\(c)")])) & 0x7fff_ffff) % 6
            for sp in Int32(0)..<4 {
                #expect(Self.route("{\"customer_id\":\"c\(c)\",\"ts\":1}", router, scanner, from: sp) == expected, "c\(c) from \(sp)")
            }
        }
        let used = Set((0..<40).map { Self.route("{\"customer_id\":\"c\($0)\",\"ts\":1}", router, scanner, from: 0) })
        #expect(used.count == 6, "40 keys use every shard: \(used)")
    }

    @Test func aKeyQueryAsksTheOwnersOfTheKeysShardsFirst() {
        let peers = ["a:1", "b:2", "c:3", "d:4"]
        #expect(Engine.ownersFirst(peers, owners: ["c:3"]) == ["c:3", "a:1", "b:2", "d:4"])
        #expect(Engine.ownersFirst(peers, owners: ["d:4", "b:2", "gone:9"]) == ["b:2", "d:4", "a:1", "c:3"])
        #expect(Engine.ownersFirst(peers, owners: []) == peers)
        // The shard a query looks for is the one the router picks for the same key.
        let (router, scanner) = Self.router()
        for c in 0..<20 {
            let routed = Self.route("{\"customer_id\":\"c\(c)\",\"ts\":1}", router, scanner, from: 1)
            #expect(Murmur2.partition(of: GroupKey.encode([.string("c\(c)")]), count: 6) == routed)
        }
    }

    @Test func anEventWithoutAGroupKeyGoesToItsSourcePartitionsShareToBeRejectedThere() {
        let (router, scanner) = Self.router()
        #expect(Self.route("{\"ts\":1}", router, scanner, from: 4) == 4)
        #expect(Self.route("{\"customer_id\":{\"id\":1}}", router, scanner, from: 9) == 3)
        #expect(Self.route("[1,2]", router, scanner, from: 7) == 1)
        #expect(Self.route("{\"customer_id\":\"c1\",\"tot", router, scanner, from: 2) == 2)
    }

    @Test func routedKeysCarryTheSourcePositionAndTheEventsOwnKey() {
        var out = KeyBuilder()
        defer { out.deallocate() }
        let own: [UInt8] = [0x6B, 0x00, 0xFF]
        own.withUnsafeBytes { RoutedKey.append(sourcePartition: 3, offset: 1 << 40 | 7, key: $0, to: &out) }
        let parsed = RoutedKey.parse(out.bytes)
        #expect(parsed?.partition == 3 && parsed?.offset == 1 << 40 | 7 && parsed?.isTick == false)
        #expect(parsed?.key.map { Array($0) } == own)
        out.reset()
        RoutedKey.append(sourcePartition: 0, offset: 0, key: nil, to: &out)
        #expect(RoutedKey.parse(out.bytes).map { $0.key == nil && !$0.isTick } == true)
        out.reset()
        RoutedKey.append(sourcePartition: 0, offset: 0, key: UnsafeRawBufferPointer(start: nil, count: 0), to: &out)
        #expect(RoutedKey.parse(out.bytes).map { $0.key?.count == 0 } == true, "an empty key is not a null key")

        let tick = RoutedKey.tick(sourcePartition: 5, offset: 99, time: 1_764_000_000_000)
        tick.key.withUnsafeBytes { k in
            let t = RoutedKey.parse(k)
            #expect(t?.isTick == true && t?.partition == 5 && t?.offset == 99 && t?.key == nil)
        }
        #expect(tick.value.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) } == 1_764_000_000_000)

        // Keys Tally does not write.
        for bad: [UInt8] in [[], [0, 0, 0, 1], tick.key.dropLast() + [3], tick.key + [1], [0xFF, 0, 0, 0] + Array(tick.key[4...])] {
            #expect(bad.withUnsafeBytes { RoutedKey.parse($0) } == nil, "\(bad)")
        }
    }

    @Test func ticksCarryEachOwnedSourcePartitionsTimeWhenItMoved() {
        let (router, scanner) = Self.router()
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":500}", router, scanner, from: 0, offset: 10)
        _ = Self.route("{\"customer_id\":\"b\",\"ts\":300}", router, scanner, from: 0, offset: 11)
        _ = Self.route("{\"customer_id\":\"b\",\"ts\":900}", router, scanner, from: 2, offset: 4)
        _ = Self.route("{\"customer_id\":\"b\"}", router, scanner, from: 1, offset: 4)  // no time: nothing to tell
        let first = router.takeTicks([0, 1, 2])
        #expect(first.map(\.partition) == [0, 2])
        #expect(first.map(\.time) == [500, 900] && first.map(\.offset) == [11, 4])
        #expect(router.takeTicks([0, 1, 2]).isEmpty, "nothing moved since")
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":400}", router, scanner, from: 0, offset: 12)
        #expect(router.takeTicks([0, 1, 2]).isEmpty, "an earlier time moves nothing")
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":800}", router, scanner, from: 0, offset: 13)
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":950}", router, scanner, from: 2, offset: 5)
        #expect(router.takeTicks([2]).map(\.time) == [950], "only owned partitions")
        router.forget(0)
        #expect(router.takeTicks([0, 2]).isEmpty, "a revoked partition starts again")
    }

    @Test func aRepartitionedShardSkipsWhatItAppliedAndKeepsItWithItsLaneTimes() {
        var plan = FieldPlan()
        let rt = DefinitionRuntime(Self.definition, plan: &plan, sharded: true, topic: "g-live-repartition")
        rt.repartitionCount = 6
        rt.sourceCount = 4
        #expect(rt.isRouted)
        _ = rt.addShard(2, plan: &plan)
        rt.setRouted(shard: 2, [:], now: 0)
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 10))
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 12), "offsets may skip (other shards' events)")
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 12), "the same event again")
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 11), "an earlier one, routed again")
        #expect(rt.admitRouted(shard: 2, source: 3, offset: 0), "source partitions are apart")

        // Every source partition is a lane of the shard: one without a time holds the watermark back.
        #expect(rt.watermark == nil)
        for s in Int32(0)..<4 { _ = rt.sharedWatermark.tracker.observe(rt.lane(shard: 2, source: s), time: 1000 + Int64(s), now: 0) }
        #expect(rt.watermark == 1000)

        let kept = rt.routed(shard: 2)
        #expect(kept[1] == RoutedSource(next: 13, time: 1001) && kept[3] == RoutedSource(next: 1, time: 1003))
        #expect(kept[0] == RoutedSource(next: -1, time: 1000))
        let value = StateKeys.routed(kept)
        #expect(value.count == 4 * StateKeys.routedEntryCount && StateKeys.parseRouted(value) == kept)
        #expect(StateKeys.parseRouted(StateKeys.routed([7: RoutedSource(next: 5, time: nil)])) == [7: RoutedSource(next: 5, time: nil)])

        // Handed over and taken back: the same skips and lane times. Every lane leaves with the
        // shard, that of a source partition the source did not have at the start too.
        _ = rt.sharedWatermark.tracker.observe(rt.lane(shard: 2, source: 5), time: 1500, now: 0)
        rt.removeShard(2)
        #expect(rt.sharedWatermark.tracker.partitionTimes.isEmpty, "its lanes leave with it")
        _ = rt.addShard(2, plan: &plan)
        rt.setRouted(shard: 2, kept, now: 0)
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 12))
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 13))
        #expect(rt.watermark == 1000)

        // Another cluster: the source's offsets start again, so nothing counts as applied, and
        // the next checkpoint stores that (lane times stay).
        rt.forgetRoutedOffsets()
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 0))
        #expect(rt.admitRouted(shard: 2, source: 3, offset: 0))
        #expect(rt.routedChange(shard: 2)?[1] == RoutedSource(next: 1, time: 1001))
        #expect(rt.routedChange(shard: 2) == nil, "stored once")
    }
}
