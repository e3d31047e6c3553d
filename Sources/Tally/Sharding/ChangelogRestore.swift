/// Rebuilds a shard's local state from its changelog, read in offset order.
///
/// A checkpoint's records all precede its marker. They are held back per checkpoint id and take
/// effect, in their order, only when the marker of the same id arrives; at that point every other
/// held-back checkpoint is discarded (it was cut short: its records precede a later marker, so
/// its own marker can no longer come). Records after the last marker are never applied. So the
/// state is always that of the last complete checkpoint, never of half a checkpoint.
///
/// The writer must not reuse the id of a checkpoint cut short: the records of both attempts
/// would be taken for one checkpoint when the second attempt's marker arrives.
public struct ChangelogRestore: Sendable {
    /// The marker of the last complete checkpoint, nil before the first one.
    public private(set) var lastMarker: ChangelogMarker?
    /// Records given to `apply`, markers included.
    public private(set) var records = 0
    /// Records of complete checkpoints, markers included, applied to the state.
    public private(set) var applied = 0
    /// Records of checkpoints cut short, dropped.
    public private(set) var discarded = 0
    /// Records held back for a marker yet to come (`records == applied + discarded + pending`).
    public private(set) var pending = 0

    /// The local state: key → value.
    var state: [[UInt8]: [UInt8]] = [:]
    /// The keys of spilled parts in `state`, by slice, for `dropSpilled`.
    var spilled: [Int64: Set<[UInt8]>] = [:]
    /// The keys of closed-result buckets in `state`, by window start, for `expireClosed`.
    var closed: [Int64: Set<[UInt8]>] = [:]
    /// The window starts in `closed`, ascending.
    var closedStarts: [Int64] = []
    /// Records held back, by checkpoint id.
    var held: [UInt64: [ChangelogRecord]] = [:]

    /// An empty state.
    public init() {}

    /// Takes the next record of the changelog, of checkpoint `checkpoint` (a marker's own id).
    public mutating func apply(_ record: ChangelogRecord, checkpoint: UInt64) {
        records += 1
        guard case .marker(let marker) = record else {
            held[checkpoint, default: []].append(record)
            pending += 1
            return
        }
        precondition(marker.checkpoint == checkpoint, "a marker ends its own checkpoint")
        let own = held.removeValue(forKey: checkpoint) ?? []
        for change in own { self.change(change) }
        applied += own.count + 1
        discarded += pending - own.count
        pending = 0
        held.removeAll()
        lastMarker = marker
    }

    /// The state as of the last complete checkpoint, sorted by key bytes (unsigned, as RocksDB
    /// orders them), and that checkpoint's marker.
    public func finish() -> (entries: [(key: [UInt8], value: [UInt8])], marker: ChangelogMarker?) {
        let entries = state.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { (key: $0.key, value: $0.value) }
        return (entries, lastMarker)
    }

    mutating func change(_ record: ChangelogRecord) {
        switch record {
        case .put(let key, let value):
            state[key] = value
            if let slice = Self.spilledSlice(key) { spilled[slice, default: []].insert(key) }
            if let start = Self.closedStart(key) {
                if closed[start] == nil {
                    closedStarts.insert(start, at: firstClosedStart(atLeast: start))
                }
                closed[start, default: []].insert(key)
            }
        case .delete(let key):
            state[key] = nil
            if let slice = Self.spilledSlice(key) { spilled[slice]?.remove(key) }
            if let start = Self.closedStart(key) { closed[start]?.remove(key) }
        case .dropSpilled(let slice):
            for key in spilled.removeValue(forKey: slice) ?? [] { state[key] = nil }
        case .expireClosed(let before):
            let gone = firstClosedStart(atLeast: before)
            for start in closedStarts[..<gone] {
                for key in closed.removeValue(forKey: start) ?? [] { state[key] = nil }
            }
            closedStarts.removeFirst(gone)
        case .marker:
            preconditionFailure("a marker is not held back")
        }
    }

    /// Where the first start of `closedStarts` at least `t` is (its count if none is).
    func firstClosedStart(atLeast t: Int64) -> Int {
        var low = 0, high = closedStarts.count
        while low < high {
            let mid = (low + high) / 2
            if closedStarts[mid] < t { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The window start of a closed-results key, nil for any other key.
    static func closedStart(_ key: [UInt8]) -> Int64? {
        guard key.count >= 9, key[0] == StateKeys.closedPrefix else { return nil }
        return key.withUnsafeBytes { StateKeys.readTime($0, at: 1) }
    }

    /// The slice of a spilled part's key, nil for any other key.
    static func spilledSlice(_ key: [UInt8]) -> Int64? {
        guard key.count >= 9, key[0] == StateKeys.spillPrefix else { return nil }
        return key.withUnsafeBytes { StateKeys.readTime($0, at: 1) }
    }
}
