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
final class Router {
    let definition: Definition
    /// The repartition topic.
    let topic: String
    /// Its partition count (set once the engine has asked the broker).
    var partitions: Int32 = 0
    let groupSlots: [Int]
    let timeField: TimeField
    /// Per source partition, the largest event time routed (`WatermarkTracker.none` before one)
    /// and the offset of the last event routed.
    private(set) var maxTime: [Int64] = []
    private(set) var lastOffset: [Int64] = []
    /// Per source partition, the time its last tick carried.
    private var ticked: [Int64] = []
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

    /// Notes the event at `offset` of `sourcePartition` (its time when it has a valid one).
    @inline(__always) func observe(_ view: EventView?, sourcePartition: Int32, offset: Int64, recordTime: Int64?) {
        let p = Int(sourcePartition)
        if p >= maxTime.count { grow(to: p) }
        lastOffset[p] = offset
        let time = view.map { timeField.time(of: $0, recordTime: recordTime).time } ?? (timeField.usesRecordTime ? recordTime : nil)
        if let time, time > maxTime[p] { maxTime[p] = time }
    }

    func grow(to p: Int) {
        while maxTime.count <= p {
            maxTime.append(WatermarkTracker.none)
            lastOffset.append(-1)
            ticked.append(WatermarkTracker.none)
        }
    }

    /// The source partitions among `owned` whose time moved since their last tick, with that
    /// time and the last routed offset; they count as ticked from now on.
    func takeTicks(_ owned: [Int32]) -> [(partition: Int32, offset: Int64, time: Int64)] {
        var out: [(partition: Int32, offset: Int64, time: Int64)] = []
        for sp in owned where Int(sp) < maxTime.count && maxTime[Int(sp)] > ticked[Int(sp)] {
            out.append((sp, lastOffset[Int(sp)], maxTime[Int(sp)]))
            ticked[Int(sp)] = maxTime[Int(sp)]
        }
        return out
    }

    /// Forgets source partition `p` (revoked): a later owner starts again from its commit.
    func forget(_ p: Int32) {
        guard Int(p) < maxTime.count else { return }
        maxTime[Int(p)] = WatermarkTracker.none
        lastOffset[Int(p)] = -1
        ticked[Int(p)] = WatermarkTracker.none
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
/// the value is the largest event time routed from the source partition up to that offset
/// (8 bytes, little-endian), and nothing follows.
enum RoutedKey {
    static let headerCount = 13
    static let tickFlag: UInt8 = 2

    /// A tick's key and value.
    static func tick(sourcePartition: Int32, offset: Int64, time: Int64) -> (key: [UInt8], value: [UInt8]) {
        var key: [UInt8] = []
        withUnsafeBytes(of: UInt32(bitPattern: sourcePartition).bigEndian) { key += $0 }
        withUnsafeBytes(of: UInt64(bitPattern: offset).bigEndian) { key += $0 }
        key.append(tickFlag)
        return (key, withUnsafeBytes(of: time.littleEndian) { Array($0) })
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
