/// Group mode, a definition with `repartition` (docs/scale-out.md, "The repartition topic"):
/// decides, for each event of its source, the partition of `<group>-<name>-repartition` whose
/// shard owns the event's group key, and the record that carries it there.
///
/// The partition is Kafka's default partitioner's choice for the group key's bytes
/// (`GroupKey` encoding): murmur2, positive, modulo the partition count. An event without a
/// usable group key (not JSON, not an object, a missing group field) still goes, to partition
/// `source partition mod count`, so that its shard rejects it and dead-letters it as a
/// standalone instance would.
///
/// The record's value is the event unchanged; its key is `RoutedKey`: where the event comes
/// from (source partition and offset), which lets the shard skip a record routed twice, and the
/// event's own key.
///
/// It also keeps, per source partition, the largest event time routed, which it sends now and
/// then to every repartition partition as a tick: each shard then tracks the time of every
/// source partition, as one instance reading the source would, and closes windows at the same
/// watermark (the interleaving of source partitions in a repartition partition adds no lateness,
/// and a shard none of whose keys a source partition holds is not held back by it).
///
/// Whether a source partition is idle (nothing read from it for the idle timeout) is the router's
/// to say, in its ticks, since only it reads that partition: a shard cannot tell a quiet source
/// partition from one whose router is gone (its instance killed, its partitions not yet taken
/// over), and leaving out the latter would close windows its backlog still has events for.
final class Router {
    let definition: Definition
    /// The repartition topic.
    let topic: String
    /// Its partition count (set once the engine has asked the broker).
    var partitions: Int32 = 0
    let groupSlots: [Int]
    let timeField: TimeField
    /// Per source partition, the largest event time routed (`WatermarkTracker.none` before one)
    /// and the offset after the last record read (-1: not known).
    private(set) var maxTime: [Int64] = []
    private(set) var nextOffset: [Int64] = []
    /// Per source partition, the time its last tick carried.
    private var ticked: [Int64] = []
    /// Per source partition, the wall-clock time of its last message (`unseen` before the first
    /// tick after it was owned), whether its last tick said it is idle, and when an idle tick is
    /// sent again (a shard that moved meanwhile learns it from that one).
    private var lastActivity: [Int64] = []
    private var idleSent: [Bool] = []
    private var idleResendAt: [Int64] = []
    static let unseen = Int64.min
    /// How often the ticks of an idle source partition are repeated, in ms.
    static let idleResendInterval: Int64 = 1_000
    /// Events routed since start (published as a metric by the loop).
    var routed = 0
    /// Of them, already published.
    var published = 0
    private var key = KeyBuilder()
    private var routedKey = KeyBuilder()

    /// Registers the group fields of `definition` in `plan` (the source topic's).
    init(_ definition: Definition, topic: String, plan: inout FieldPlan) {
        self.definition = definition
        self.topic = topic
        groupSlots = definition.groupBy.map { plan.slot(for: $0) }
        timeField = TimeField(definition.time, plan: &plan)
    }

    deinit {
        key.deallocate()
        routedKey.deallocate()
    }

    /// The repartition partition of the event `view` (nil when it is not a JSON object) read from
    /// `sourcePartition`.
    @inline(__always) func partition(of view: EventView?, sourcePartition: Int32) -> Int32 {
        guard let view else { return sourcePartition % partitions }
        key.reset()
        if GroupKey.encode(view, slots: groupSlots, into: &key) != nil { return sourcePartition % partitions }
        return Murmur2.partition(key.bytes, count: partitions)
    }

    /// Notes the event at `offset` of `sourcePartition` (its time when it has a valid one), read
    /// at wall-clock `now`.
    @inline(__always) func observe(_ view: EventView?, sourcePartition: Int32, offset: Int64, recordTime: Int64?, now: Int64) {
        let p = Int(sourcePartition)
        if p >= maxTime.count { grow(to: p) }
        nextOffset[p] = offset + 1
        lastActivity[p] = now
        let time = view.map { timeField.time(of: $0, recordTime: recordTime).time } ?? (timeField.usesRecordTime ? recordTime : nil)
        if let time, time > maxTime[p] { maxTime[p] = time }
    }

    func grow(to p: Int) {
        while maxTime.count <= p {
            maxTime.append(WatermarkTracker.none)
            nextOffset.append(-1)
            ticked.append(WatermarkTracker.none)
            lastActivity.append(Self.unseen)
            idleSent.append(false)
            idleResendAt.append(0)
        }
    }

    /// A tick: the largest event time routed from a source partition (`WatermarkTracker.none`
    /// before one), the offset after the last record read from it, and whether it is idle.
    struct Tick: Equatable {
        var partition: Int32
        var offset: Int64
        var time: Int64
        var idle: Bool
    }

    /// The ticks due at wall-clock `now` for the source partitions among `owned`: those whose
    /// time moved since their last tick, those that went idle (nothing read for `idleTimeout`
    /// ms; nil: never) or came back, and every second those still idle.
    func takeTicks(_ owned: [Int32], now: Int64, idleTimeout: Int64?) -> [Tick] {
        var out: [Tick] = []
        for sp in owned {
            let p = Int(sp)
            if p >= maxTime.count { grow(to: p) }
            if lastActivity[p] == Self.unseen { lastActivity[p] = now }  // owned since the last ticks
            let idle = idleTimeout.map { now - lastActivity[p] >= $0 } ?? false
            let offset = max(0, nextOffset[p])
            if idle {
                guard !idleSent[p] || now >= idleResendAt[p] else { continue }
                idleSent[p] = true
                idleResendAt[p] = now + Self.idleResendInterval
            } else {
                guard maxTime[p] > ticked[p] || idleSent[p] else { continue }
                idleSent[p] = false
            }
            out.append(Tick(partition: sp, offset: offset, time: maxTime[p], idle: idle))
            ticked[p] = maxTime[p]
        }
        return out
    }

    /// Source partition `p` is read from `offset` on (taken over at its routers' commit).
    func resume(_ p: Int32, at offset: Int64) {
        if Int(p) >= maxTime.count { grow(to: Int(p)) }
        nextOffset[Int(p)] = offset
    }

    /// Forgets source partition `p` (revoked): a later owner starts again from its commit.
    func forget(_ p: Int32) {
        guard Int(p) < maxTime.count else { return }
        maxTime[Int(p)] = WatermarkTracker.none
        nextOffset[Int(p)] = -1
        ticked[Int(p)] = WatermarkTracker.none
        lastActivity[Int(p)] = Self.unseen
        idleSent[Int(p)] = false
    }

    /// The key of the routed record of the message at `offset` of `sourcePartition` with `key`;
    /// valid until the next call.
    @inline(__always) func routedKey(sourcePartition: Int32, offset: Int64, key: UnsafeRawBufferPointer?) -> UnsafeRawBufferPointer {
        routedKey.reset()
        RoutedKey.append(sourcePartition: sourcePartition, offset: offset, key: key, to: &routedKey)
        return routedKey.bytes
    }
}

/// The key of a record of a repartition topic: `source partition i32 BE | source offset i64 BE |
/// flag u8 | …`. Flag 0: an event with a null key; 1: an event, its key bytes follow; 2: a tick,
/// nothing follows, the offset is the one after the last record read from the source partition,
/// and the value is the largest event time routed from it (8 bytes, little-endian; `Int64.min`
/// for none), then a byte whose bit 0 says the source partition is idle (absent: not idle).
enum RoutedKey {
    static let headerCount = 13
    static let tickFlag: UInt8 = 2

    /// A tick's key and value.
    static func tick(_ t: Router.Tick) -> (key: [UInt8], value: [UInt8]) {
        var key: [UInt8] = []
        withUnsafeBytes(of: UInt32(bitPattern: t.partition).bigEndian) { key += $0 }
        withUnsafeBytes(of: UInt64(bitPattern: t.offset).bigEndian) { key += $0 }
        key.append(tickFlag)
        return (key, withUnsafeBytes(of: t.time.littleEndian) { Array($0) } + [t.idle ? 1 : 0])
    }

    /// A tick's value: the time it carries (nil for none) and whether its source partition is idle;
    /// nil when it is not a tick's value.
    static func parseTick(_ value: UnsafeRawBufferPointer) -> (time: Int64?, idle: Bool)? {
        guard value.count == 8 || value.count == 9 else { return nil }
        let time = Int64(littleEndian: value.loadUnaligned(as: Int64.self))
        return (time == WatermarkTracker.none ? nil : time, value.count == 9 && value[8] & 1 == 1)
    }

    @inline(__always) static func append(sourcePartition: Int32, offset: Int64, key: UnsafeRawBufferPointer?, to out: inout KeyBuilder) {
        out.append(littleEndian: UInt32(bitPattern: sourcePartition).byteSwapped)
        out.append(littleEndian: UInt64(bitPattern: offset).byteSwapped)
        out.append(key == nil ? 0 : 1)
        if let key { out.append(key) }
    }

    /// Where a routed record comes from and the event's own key; nil for a key Tally did not write.
    @inline(__always) static func parse(_ b: UnsafeRawBufferPointer?) -> RoutedOrigin? {
        guard let b, b.count >= headerCount, b[12] <= tickFlag, b[12] != tickFlag || b.count == headerCount else { return nil }
        let p = Int32(bitPattern: UInt32(bigEndian: b.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        let o = Int64(bitPattern: UInt64(bigEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
        guard p >= 0, o >= 0 else { return nil }
        return RoutedOrigin(partition: p, offset: o, key: b[12] == 1 ? UnsafeRawBufferPointer(rebasing: b[headerCount...]) : nil, isTick: b[12] == tickFlag)
    }
}

/// Where a routed event was first read: its source partition and offset, and its own key
/// (pointing into the routed record's key).
struct RoutedOrigin {
    var partition: Int32
    var offset: Int64
    var key: UnsafeRawBufferPointer?
    /// A tick (see `RoutedKey`) rather than an event.
    var isTick = false
}
