/// One definition inside the live engine: its operators and encoder, its counters, the next offset
/// it has to read from each partition of its source, and its final results since the last checkpoint.
///
/// Its state is held by `shards`, operators that each own the keys of some source partitions:
/// today a single one owns every partition (a standalone instance, whatever partition a key's
/// events arrive on); with scale-out each owned partition gets its own (docs/scale-out.md).
final class DefinitionRuntime {
    let definition: Definition
    /// The topic its shards read: its source, or in group mode with `repartition` its
    /// repartition topic.
    let topic: String
    /// Whether its shards read its repartition topic.
    var isRouted: Bool { topic != definition.source }
    /// The operators holding this definition's windows: one standalone; in group mode one per
    /// owned partition (none before the first assignment).
    private(set) var shards: [WindowOperator]
    /// Group mode: a shard per owned source partition.
    let isSharded: Bool
    /// Group mode: per partition, its shard's index in `shards` (-1: not owned).
    private var shardIndex: [Int] = []
    /// Group mode: per shard, the partition it owns.
    private(set) var shardPartitions: [Int32] = []
    /// Group mode with `repartition`: per shard, per source partition, the offset after the last
    /// event the shard applied (-1: none): a record routed again after a router moved is skipped.
    private var routedNext: [[Int64]] = []
    /// Group mode with `repartition`: the partition counts of the repartition topic and of the
    /// source (set when the engine joins the group). A shard's watermark has one lane per source
    /// partition: its tracker's partition ids are the source's.
    var repartitionCount: Int32 = 1
    var sourceCount: Int32 = 0
    /// Group mode with `repartition`: per source partition, the offset up to which its router
    /// said it is idle (-1: not said), which holds while the source has nothing beyond it
    /// (`applyIdleClaims`).
    var idleClaims: [Int64] = []

    /// Group mode with `repartition`: notes what a tick says of source partition `s` being idle
    /// (read up to `offset`).
    func claim(source s: Int32, idle: Bool, offset: Int64) {
        while idleClaims.count <= Int(s) { idleClaims.append(-1) }
        idleClaims[Int(s)] = idle ? offset : -1
    }

    /// Group mode with `repartition`: leaves out of every shard's watermark the source partitions
    /// their routers said are idle, as long as each has nothing beyond what its router read
    /// (`end`: a source partition's end offset, nil when not known); takes back in those that
    /// have: their router may be gone (its instance killed), and the events it did not read
    /// would be late once another instance routes them. A claim that no longer holds is
    /// dropped; a router says it again every second while it is true.
    func applyIdleClaims(now: Int64, end: (Int32) -> Int64?) {
        for s in idleClaims.indices where idleClaims[s] >= 0 {
            let holds = end(Int32(s)).map { $0 <= idleClaims[s] } ?? false
            for op in shards {
                if holds { op.watermarks.setIdle(Int32(s)) } else { op.watermarks.setActive(Int32(s), now: now) }
            }
            if !holds { idleClaims[s] = -1 }
        }
    }

    /// Group mode with `repartition`: per shard partition, what its state last stored of the
    /// source partitions (`routedChange`).
    private var routedStored: [Int32: [Int32: RoutedSource]] = [:]
    let encoder: ResultEncoder
    var stats = RunStats()
    /// Next offset per partition; -1 when nothing is stored yet.
    var nextOffset: [Int64] = []
    /// Per partition, the offset the next message should have after an assignment or an offset
    /// reset (-1: nothing to check). Only those moments are checked: elsewhere offsets may skip
    /// legitimately (transaction markers, compaction).
    var expectFrom: [Int64] = []
    /// Final results since the last checkpoint, for queries (the output stage stores them).
    var pendingClosed: PendingClosedResults
    /// Its position in the engine's runtimes.
    var index = 0
    /// Counters already published to metrics.
    var published = RunStats()
    /// Evictions already published to metrics.
    var publishedEvictions = 0

    init(_ definition: Definition, plan: inout FieldPlan, sharded: Bool = false, topic: String? = nil) {
        self.definition = definition
        self.topic = topic ?? definition.source
        isSharded = sharded
        let op = WindowOperator(definition, plan: &plan)
        shards = sharded ? [] : [op]
        encoder = ResultEncoder(definition, layout: op.layout)
        pendingClosed = PendingClosedResults(width: definition.aggregates.count)
    }

    /// The operator that owns the keys of source partition `p` (in group mode, an owned one).
    @inline(__always) func shard(for p: Int) -> WindowOperator {
        isSharded ? shards[shardIndex[p]] : shards[0]
    }

    /// Group mode: the shard of partition `p`, nil when this instance does not own it.
    func ownedShard(_ p: Int32) -> WindowOperator? {
        Int(p) < shardIndex.count && shardIndex[Int(p)] >= 0 ? shards[shardIndex[Int(p)]] : nil
    }

    /// Group mode: a new, empty shard for partition `p`, registering its fields in `plan` (the
    /// topic's, where they are already: the scanner stays as it is).
    func addShard(_ p: Int32, plan: inout FieldPlan) -> WindowOperator {
        precondition(isSharded && ownedShard(p) == nil, "a shard per owned partition")
        let op = WindowOperator(definition, plan: &plan)
        while shardIndex.count <= Int(p) { shardIndex.append(-1) }
        shardIndex[Int(p)] = shards.count
        shards.append(op)
        shardPartitions.append(p)
        routedNext.append([])
        return op
    }

    /// Group mode: forgets the shard of partition `p` (revoked), its watermark and lanes with it,
    /// and the partition's offsets.
    func removeShard(_ p: Int32) {
        guard ownedShard(p) != nil else { return }
        let i = shardIndex[Int(p)]
        shards.remove(at: i)
        shardPartitions.remove(at: i)
        routedNext.remove(at: i)
        routedStored[p] = nil
        shardIndex[Int(p)] = -1
        for (j, q) in shardPartitions.enumerated() { shardIndex[Int(q)] = j }
        setNext(Int(p), -1)
        _ = takeExpected(Int(p))
    }

    /// Group mode with `repartition`: whether the shard of partition `p` has yet to apply the
    /// event at `offset` of source partition `source`; if so, it counts as applied from now on.
    @inline(__always) func admitRouted(shard p: Int, source: Int32, offset: Int64) -> Bool {
        let i = shardIndex[p]
        let s = Int(source)
        while routedNext[i].count <= s { routedNext[i].append(-1) }
        if offset < routedNext[i][s] { return false }
        routedNext[i][s] = offset + 1
        return true
    }

    /// Group mode with `repartition`: forgets which source offsets every shard applied, as after
    /// a cluster change the source is a new log whose offsets start again (the lanes' event times
    /// stay, as a definition's watermark does). The next checkpoint stores the change.
    func forgetRoutedOffsets() {
        for i in routedNext.indices { routedNext[i].removeAll() }
    }

    /// Group mode with `repartition`: what the shard of partition `p` knows of each source
    /// partition (applied offsets, lane times), for its checkpoint.
    func routed(shard p: Int32) -> [Int32: RoutedSource] {
        var out: [Int32: RoutedSource] = [:]
        let i = shardIndex[Int(p)]
        for (s, o) in routedNext[i].enumerated() where o >= 0 {
            out[Int32(s)] = RoutedSource(next: o, time: nil)
        }
        for (s, t) in shards[i].watermarks.partitionTimes {
            out[s, default: RoutedSource(next: -1, time: nil)].time = t
        }
        return out
    }

    /// Group mode with `repartition`: what the shard of partition `p` knows of each source
    /// partition when it changed since its state last stored it, else nil (nothing to write:
    /// its changelog would grow by the same value at every checkpoint).
    func routedChange(shard p: Int32) -> [Int32: RoutedSource]? {
        let now = routed(shard: p)
        if routedStored[p] == now { return nil }
        routedStored[p] = now
        return now
    }

    /// Group mode with `repartition`: puts back what the shard of `p` knew of each source
    /// partition, and starts tracking its lanes (every source partition's, known or not: one
    /// without a time holds the watermark back, as a partition that joins does).
    func setRouted(shard p: Int32, _ sources: [Int32: RoutedSource], now: Int64) {
        var row: [Int64] = []
        for (s, r) in sources where s >= 0 && r.next >= 0 {
            while row.count <= Int(s) { row.append(-1) }
            row[Int(s)] = r.next
        }
        routedNext[shardIndex[Int(p)]] = row
        routedStored[p] = sources
        let op = shards[shardIndex[Int(p)]]
        for s in 0..<max(sourceCount, (sources.keys.max() ?? -1) + 1) {
            op.watermarks.assign(s, now: now, restored: sources[s]?.time)
        }
    }

    /// The definition's watermark as shown (`/queries`, metrics): standalone the one operator's;
    /// in group mode the smallest of its shards' watermarks, shards without one left out. Each
    /// shard closes its windows at its own.
    var watermark: Int64? {
        var out: Int64? = nil
        for op in shards { if let w = op.watermark { out = min(out ?? w, w) } }
        return out
    }

    /// The one shard, for the state store, which keeps a definition's state as one shard until
    /// shard column families come with group mode (docs/scale-out.md).
    var soleShard: WindowOperator {
        precondition(!isSharded && shards.count == 1, "the state store keeps one shard per definition")
        return shards[0]
    }

    @inline(__always) func next(_ p: Int) -> Int64 { p < nextOffset.count ? nextOffset[p] : -1 }

    @inline(__always) func setNext(_ p: Int, _ offset: Int64) {
        while nextOffset.count <= p { nextOffset.append(-1) }
        nextOffset[p] = offset
    }

    /// Expects the next message of `p` at `offset` (when known).
    func expect(_ p: Int, _ offset: Int64) {
        while expectFrom.count <= p { expectFrom.append(-1) }
        expectFrom[p] = offset
    }

    /// The expected offset of `p`, clearing it: it is checked once.
    @inline(__always) func takeExpected(_ p: Int) -> Int64 {
        guard p < expectFrom.count, expectFrom[p] >= 0 else { return -1 }
        defer { expectFrom[p] = -1 }
        return expectFrom[p]
    }

    /// Offsets for the checkpoint: topic → partition → next offset.
    var offsets: [String: [Int32: Int64]] {
        var out: [Int32: Int64] = [:]
        for (p, o) in nextOffset.enumerated() where o >= 0 { out[Int32(p)] = o }
        return [topic: out]
    }
}

/// The definitions reading one topic, sharing one scanner, so each event is read once; in group
/// mode also the routers of definitions that repartition it, or the one definition reading its
/// own repartition topic (`isRepartition`).
final class TopicPipeline {
    let topic: String
    let scanner: EventScanner
    let runtimes: [DefinitionRuntime]
    /// Group mode: definitions whose events this topic's records only pass to their repartition topic.
    let routers: [Router]
    /// Group mode: the topic is a definition's repartition topic (records keyed by `RoutedKey`).
    let isRepartition: Bool
    /// The partitions read, ascending (group mode: the owned ones).
    private(set) var partitions: [Int32] = []
    /// Per partition, whether it is in `partitions`.
    private var owned: [Bool] = []
    /// Per partition, the offset the consumer should deliver next (-1: unknown). Kafka never
    /// delivers a lower one within an assignment unless the log was truncated or recreated.
    var position: [Int64] = []

    /// The fields its definitions read (group mode registers each new shard's fields here).
    var plan = FieldPlan()

    /// `routed`: definitions repartitioning this topic, each with its repartition topic.
    init(
        topic: String, definitions: [Definition], sharded: Bool = false, routed: [(Definition, topic: String)] = [],
        isRepartition: Bool = false
    ) {
        self.topic = topic
        self.isRepartition = isRepartition
        var plan = FieldPlan()
        var runtimes: [DefinitionRuntime] = []
        for d in definitions { runtimes.append(DefinitionRuntime(d, plan: &plan, sharded: sharded, topic: topic)) }
        self.runtimes = runtimes
        routers = routed.map { Router($0.0, topic: $0.topic, plan: &plan) }
        scanner = EventScanner(plan: plan)
        self.plan = plan
    }

    /// Whether partition `p` is read.
    @inline(__always) func owns(_ p: Int32) -> Bool { Int(p) < owned.count && owned[Int(p)] }

    /// Reads partition `p` from now on.
    func own(_ p: Int32) {
        guard !owns(p) else { return }
        while owned.count <= Int(p) { owned.append(false) }
        owned[Int(p)] = true
        partitions.append(p)
        partitions.sort()
    }

    /// Stops reading partition `p`.
    func release(_ p: Int32) {
        guard owns(p) else { return }
        owned[Int(p)] = false
        partitions.removeAll { $0 == p }
    }

    @inline(__always) func position(_ p: Int) -> Int64 { p < position.count ? position[p] : -1 }

    @inline(__always) func setPosition(_ p: Int, _ offset: Int64) {
        while position.count <= p { position.append(-1) }
        position[p] = offset
    }

    /// The smallest next offset of partition `p` over this topic's definitions: where reading
    /// must resume, and what may be committed; nil when one of them has none stored yet.
    func lowestNext(_ p: Int32) -> Int64? {
        var low = Int64.max
        for rt in runtimes {
            let o = rt.next(Int(p))
            if o < 0 { return nil }
            low = min(low, o)
        }
        return runtimes.isEmpty ? nil : low
    }
}
