/// The watermark of one definition: the smallest, over the partitions it reads, of the largest
/// valid event time seen in each. A partition that has delivered nothing, or lags, holds it back
/// until it has been quiet for the idle timeout; then it is left out until its next event.
/// Partitions are indexed by id in flat arrays: observing an event is a few array reads.
public struct WatermarkTracker: Sendable {
    static let none = Int64.min

    var assigned: [Bool] = []
    var maxTime: [Int64] = []  // `none` until a valid time arrives
    var lastActivity: [Int64] = []
    var idle: [Bool] = []
    /// The current watermark, nil while some active partition has no time yet.
    public private(set) var current: Int64?

    /// A tracker with no partitions.
    public init() {}

    mutating func ensure(_ p: Int) {
        while assigned.count <= p {
            assigned.append(false)
            maxTime.append(Self.none)
            lastActivity.append(0)
            idle.append(false)
        }
    }

    /// Starts tracking `partition` (assigned at wall-clock `now`), with a restored time if known.
    public mutating func assign(_ partition: Int32, now: Int64, restored: Int64? = nil) {
        let p = Int(partition)
        ensure(p)
        if !assigned[p] {
            assigned[p] = true
            maxTime[p] = restored ?? Self.none
            lastActivity[p] = now
            idle[p] = false
            // The one case where the watermark may go back: a partition that joins (a source
            // that grew, a repartitioned shard's new lane) holds it back like any other. Windows
            // already closed stay closed.
            recompute(joining: true)
            return
        }
        recompute()
    }

    /// Stops tracking `partition` (revoked).
    public mutating func revoke(_ partition: Int32) {
        let p = Int(partition)
        guard p < assigned.count else { return }
        assigned[p] = false
        recompute()
    }

    /// Records a valid event time on `partition`; returns the (possibly advanced) watermark.
    @inline(__always)
    public mutating func observe(_ partition: Int32, time: Int64, now: Int64 = 0) -> Int64? {
        let p = Int(partition)
        if p >= assigned.count || !assigned[p] {
            ensure(p)
            assigned[p] = true
            idle[p] = false
        }
        lastActivity[p] = now
        let previous = maxTime[p]
        let wasIdle = idle[p]
        idle[p] = false
        if time > previous {
            maxTime[p] = time
            // Only the partition holding the minimum (or one rejoining) can move the watermark.
            if previous == Self.none || current == nil || previous <= current! || wasIdle { recompute() }
        } else if wasIdle {
            recompute()
        }
        return current
    }

    /// Notes that `partition` delivered records (valid times or not) at `now`.
    public mutating func touch(_ partition: Int32, now: Int64) {
        let p = Int(partition)
        if p < lastActivity.count { lastActivity[p] = now }
    }

    /// Leaves `partition` out until its next event, as its reader says it is idle (a
    /// repartitioned shard's lane, whose router tells).
    public mutating func setIdle(_ partition: Int32) {
        let p = Int(partition)
        guard p < assigned.count, assigned[p], !idle[p] else { return }
        idle[p] = true
        recompute()
    }

    /// Takes `partition` into account again (its reader's word that it is idle no longer holds).
    public mutating func setActive(_ partition: Int32, now: Int64) {
        let p = Int(partition)
        guard p < assigned.count, assigned[p], idle[p] else { return }
        idle[p] = false
        lastActivity[p] = now
        recompute()
    }

    /// Leaves out partitions quiet for `timeout` ms at wall-clock `now`; returns the watermark.
    public mutating func expireIdle(now: Int64, timeout: Int64) -> Int64? {
        var changed = false
        for p in assigned.indices where assigned[p] && !idle[p] && now - lastActivity[p] >= timeout {
            idle[p] = true
            changed = true
        }
        if changed { recompute() }
        return current
    }

    /// Largest time seen per partition (for checkpoints).
    public var partitionTimes: [Int32: Int64] {
        var out: [Int32: Int64] = [:]
        for p in assigned.indices where assigned[p] && maxTime[p] != Self.none { out[Int32(p)] = maxTime[p] }
        return out
    }

    /// `joining`: a partition was just assigned, and may take the watermark back (see `assign`).
    mutating func recompute(joining: Bool = false) {
        var w: Int64? = nil
        for p in assigned.indices where assigned[p] && !idle[p] {
            if maxTime[p] == Self.none {  // an active partition without a time holds it back
                if joining { current = nil }
                return
            }
            w = min(w ?? maxTime[p], maxTime[p])
        }
        // Otherwise the watermark never moves back: a returning idle partition cannot reopen windows.
        if let w { current = joining ? w : max(current ?? w, w) }
    }
}
