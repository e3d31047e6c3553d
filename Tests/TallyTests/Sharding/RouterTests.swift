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
    static func route(_ json: String, _ router: Router, _ scanner: EventScanner, from sp: Int32, offset: Int64 = 0, now: Int64 = 0) -> Int32 {
        Array(json.utf8).withUnsafeBytes { raw in
            scanner.scan(raw) { outcome, view in
                let object: EventView?
                if case .object = outcome { object = view } else { object = nil }
                router.observe(object, sourcePartition: sp, offset: offset, recordTime: nil, now: now)
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

        let tick = RoutedKey.tick(Router.Tick(partition: 5, offset: 99, time: 1_764_000_000_000, idle: false))
        tick.key.withUnsafeBytes { k in
            let t = RoutedKey.parse(k)
            #expect(t?.isTick == true && t?.partition == 5 && t?.offset == 99 && t?.key == nil)
        }
        #expect(tick.value.withUnsafeBytes { RoutedKey.parseTick($0) }.map { $0.time == 1_764_000_000_000 && !$0.idle } == true)
        let idle = RoutedKey.tick(Router.Tick(partition: 5, offset: 0, time: WatermarkTracker.none, idle: true))
        #expect(idle.value.withUnsafeBytes { RoutedKey.parseTick($0) }.map { $0.time == nil && $0.idle } == true)
        let older: [UInt8] = withUnsafeBytes(of: Int64(700).littleEndian) { Array($0) }
        #expect(older.withUnsafeBytes { RoutedKey.parseTick($0) }.map { $0.time == 700 && !$0.idle } == true, "an 8-byte tick: not idle")
        #expect([1, 2, 3].withUnsafeBytes { RoutedKey.parseTick($0) } == nil)

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
        let first = router.takeTicks([0, 1, 2], now: 0, idleTimeout: nil)
        #expect(first.map(\.partition) == [0, 2])
        #expect(first.map(\.time) == [500, 900] && first.map(\.offset) == [12, 5] && !first.contains(where: \.idle))
        #expect(router.takeTicks([0, 1, 2], now: 0, idleTimeout: nil).isEmpty, "nothing moved since")
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":400}", router, scanner, from: 0, offset: 12)
        #expect(router.takeTicks([0, 1, 2], now: 0, idleTimeout: nil).isEmpty, "an earlier time moves nothing")
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":800}", router, scanner, from: 0, offset: 13)
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":950}", router, scanner, from: 2, offset: 5)
        #expect(router.takeTicks([2], now: 0, idleTimeout: nil).map(\.time) == [950], "only owned partitions")
        router.forget(0)
        #expect(router.takeTicks([0, 2], now: 0, idleTimeout: nil).isEmpty, "a revoked partition starts again")
    }

    /// Only the router reads a source partition, so it says when that one is idle: a shard whose
    /// lanes went idle on their own would leave out a source partition whose router is gone (its
    /// instance killed) and close windows its backlog still has events for.
    @Test func routersSayWhenASourcePartitionIsIdleAndRepeatIt() {
        let (router, scanner) = Self.router()
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":500}", router, scanner, from: 0, offset: 3, now: 1_000)
        #expect(router.takeTicks([0, 1], now: 1_000, idleTimeout: 10_000) == [Router.Tick(partition: 0, offset: 4, time: 500, idle: false)])
        #expect(router.takeTicks([0, 1], now: 9_000, idleTimeout: 10_000).isEmpty)
        _ = Self.route("{\"customer_id\":\"a\",\"ts\":400}", router, scanner, from: 0, offset: 4, now: 9_500)
        // Partition 1 delivered nothing since it was owned (at 1 s); partition 0 last at 9.5 s.
        #expect(router.takeTicks([0, 1], now: 11_000, idleTimeout: 10_000) == [Router.Tick(partition: 1, offset: 0, time: WatermarkTracker.none, idle: true)])
        #expect(router.takeTicks([0, 1], now: 11_500, idleTimeout: 10_000).isEmpty, "said once a second")
        #expect(router.takeTicks([0, 1], now: 19_600, idleTimeout: 10_000).map(\.partition) == [0, 1])
        #expect(router.takeTicks([0, 1], now: 20_700, idleTimeout: 10_000).count == 2, "repeated while idle")
        _ = Self.route("{\"customer_id\":\"b\",\"ts\":300}", router, scanner, from: 1, offset: 9, now: 21_000)
        #expect(router.takeTicks([0, 1], now: 21_000, idleTimeout: 10_000) == [Router.Tick(partition: 1, offset: 10, time: 300, idle: false)], "back")

        // In the shard, an idle lane is left out until its next event; one never said idle holds it back.
        var plan = FieldPlan()
        let shard = WindowOperator(Self.definition, plan: &plan)
        for s in Int32(0)..<3 { shard.watermarks.assign(s, now: 0) }
        _ = shard.watermarks.observe(0, time: 90_000, now: 0)
        _ = shard.watermarks.observe(1, time: 70_000, now: 0)
        #expect(shard.watermark == nil, "lane 2 has no time")
        shard.refreshWatermark(now: 60_000, idleTimeout: nil)
        #expect(shard.watermark == nil, "a repartitioned shard's lanes do not go idle by themselves")
        shard.watermarks.setIdle(2)
        #expect(shard.watermark == 70_000)
        shard.watermarks.setIdle(1)
        #expect(shard.watermark == 90_000)
        _ = shard.watermarks.observe(1, time: 95_000, now: 0)
        #expect(shard.watermark == 90_000)
    }

    /// A router's word that a source partition is idle holds only while the source has nothing
    /// beyond what it read: a router that died cannot say that events came since.
    @Test func anIdleClaimHoldsWhileTheSourceHasNothingUnread() {
        var plan = FieldPlan()
        let rt = DefinitionRuntime(Self.definition, plan: &plan, sharded: true, topic: "g-live-repartition")
        rt.sourceCount = 3
        let shards = [rt.addShard(0, plan: &plan), rt.addShard(4, plan: &plan)]
        rt.setRouted(shard: 0, [:], now: 0)
        rt.setRouted(shard: 4, [:], now: 0)
        for op in shards {
            _ = op.watermarks.observe(0, time: 50_000, now: 0)
            _ = op.watermarks.observe(1, time: 80_000, now: 0)
            _ = op.watermarks.observe(2, time: 90_000, now: 0)
        }
        var ends: [Int32: Int64] = [0: 120, 1: 300, 2: 40]
        rt.claim(source: 0, idle: true, offset: 120)
        rt.claim(source: 2, idle: true, offset: 35)
        rt.applyIdleClaims(now: 1_000) { ends[$0] }
        #expect(shards.allSatisfy { $0.watermark == 80_000 }, "source 0 read to its end: left out; source 2 has 5 unread: not")
        #expect(rt.idleClaims[0] == 120 && rt.idleClaims[2] == -1, "a claim that does not hold is dropped")

        // Source 0's router is gone; events arrive that nobody reads yet: source 0 counts again.
        ends[0] = 130
        rt.applyIdleClaims(now: 2_000) { ends[$0] }
        _ = shards[0].watermarks.observe(1, time: 85_000, now: 0)
        #expect(shards[0].watermark == 80_000, "the watermark never moves back, and source 0 holds it from now on")
        _ = shards[0].watermarks.observe(2, time: 99_000, now: 0)
        #expect(shards[0].watermark == 80_000)
        rt.claim(source: 1, idle: true, offset: 300)
        rt.applyIdleClaims(now: 3_000) { _ in nil }
        #expect(rt.idleClaims[1] == -1 && shards[0].watermark == 80_000, "no end offset known: the claim is not taken")
    }

    @Test func aRepartitionedShardSkipsWhatItAppliedAndKeepsItWithItsLaneTimes() {
        var plan = FieldPlan()
        let rt = DefinitionRuntime(Self.definition, plan: &plan, sharded: true, topic: "g-live-repartition")
        rt.repartitionCount = 6
        rt.sourceCount = 4
        #expect(rt.isRouted)
        var shard = rt.addShard(2, plan: &plan)
        rt.setRouted(shard: 2, [:], now: 0)
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 10))
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 12), "offsets may skip (other shards' events)")
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 12), "the same event again")
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 11), "an earlier one, routed again")
        #expect(rt.admitRouted(shard: 2, source: 3, offset: 0), "source partitions are apart")

        // Every source partition is a lane of the shard: one without a time holds the watermark back.
        #expect(shard.watermark == nil && rt.watermark == nil)
        for s in Int32(0)..<4 { _ = shard.watermarks.observe(s, time: 1000 + Int64(s), now: 0) }
        #expect(shard.watermark == 1000 && rt.watermark == 1000)

        // Another shard's lanes are its own: far ahead, it moves neither this shard nor the figure shown.
        let other = rt.addShard(4, plan: &plan)
        rt.setRouted(shard: 4, [:], now: 0)
        for s in Int32(0)..<4 { _ = other.watermarks.observe(s, time: 90_000, now: 0) }
        #expect(other.watermark == 90_000 && shard.watermark == 1000 && rt.watermark == 1000)
        rt.removeShard(4)

        let kept = rt.routed(shard: 2)
        #expect(kept[1] == RoutedSource(next: 13, time: 1001) && kept[3] == RoutedSource(next: 1, time: 1003))
        #expect(kept[0] == RoutedSource(next: -1, time: 1000))
        let value = StateKeys.routed(kept)
        #expect(value.count == 4 * StateKeys.routedEntryCount && StateKeys.parseRouted(value) == kept)
        #expect(StateKeys.parseRouted(StateKeys.routed([7: RoutedSource(next: 5, time: nil)])) == [7: RoutedSource(next: 5, time: nil)])

        // Handed over and taken back: the same skips and lane times. Every lane leaves with the
        // shard, that of a source partition the source did not have at the start too.
        _ = shard.watermarks.observe(5, time: 1500, now: 0)
        rt.removeShard(2)
        #expect(rt.watermark == nil, "its lanes leave with it")
        shard = rt.addShard(2, plan: &plan)
        rt.setRouted(shard: 2, kept, now: 0)
        #expect(!rt.admitRouted(shard: 2, source: 1, offset: 12))
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 13))
        #expect(shard.watermark == 1000 && shard.watermarks.partitionTimes.count == 4)

        // Another cluster: the source's offsets start again, so nothing counts as applied, and
        // the next checkpoint stores that (lane times stay).
        rt.forgetRoutedOffsets()
        #expect(rt.admitRouted(shard: 2, source: 1, offset: 0))
        #expect(rt.admitRouted(shard: 2, source: 3, offset: 0))
        #expect(rt.routedChange(shard: 2)?[1] == RoutedSource(next: 1, time: 1001))
        #expect(rt.routedChange(shard: 2) == nil, "stored once")
    }
}
