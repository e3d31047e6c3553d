/// The watermark of one definition: the smallest, over the partitions it reads, of the largest
/// valid event time seen in each. A partition that has delivered nothing, or lags, holds it back
/// until it has been quiet for the idle timeout; then it is left out until its next event.
public struct WatermarkTracker: Sendable {
    struct Partition: Sendable {
        var maxTime: Int64?
        var lastActivity: Int64
        var idle = false
    }

    var partitions: [Int32: Partition] = [:]
    /// The current watermark, nil while some active partition has no time yet.
    public private(set) var current: Int64?

    /// A tracker with no partitions.
    public init() {}

    /// Starts tracking `partition` (assigned at wall-clock `now`), with a restored time if known.
    public mutating func assign(_ partition: Int32, now: Int64, restored: Int64? = nil) {
        if partitions[partition] == nil { partitions[partition] = Partition(maxTime: restored, lastActivity: now) }
        recompute()
    }

    /// Stops tracking `partition` (revoked).
    public mutating func revoke(_ partition: Int32) {
        partitions[partition] = nil
        recompute()
    }

    /// Records a valid event time on `partition`; returns the (possibly advanced) watermark.
    @inline(__always)
    public mutating func observe(_ partition: Int32, time: Int64, now: Int64 = 0) -> Int64? {
        if var p = partitions[partition] {
            let advanced = p.maxTime.map { time > $0 } ?? true
            let wasIdle = p.idle
            if advanced { p.maxTime = time }
            p.lastActivity = now
            p.idle = false
            partitions[partition] = p
            if advanced || wasIdle { recompute() }
        } else {
            partitions[partition] = Partition(maxTime: time, lastActivity: now)
            recompute()
        }
        return current
    }

    /// Notes that `partition` delivered records (valid times or not) at `now`.
    public mutating func touch(_ partition: Int32, now: Int64) {
        partitions[partition]?.lastActivity = now
    }

    /// Leaves out partitions quiet for `timeout` ms at wall-clock `now`; returns the watermark.
    public mutating func expireIdle(now: Int64, timeout: Int64) -> Int64? {
        var changed = false
        for (id, p) in partitions where !p.idle && now - p.lastActivity >= timeout {
            partitions[id]!.idle = true
            changed = true
        }
        if changed { recompute() }
        return current
    }

    /// Largest time seen per partition (for checkpoints).
    public var partitionTimes: [Int32: Int64] { partitions.compactMapValues(\.maxTime) }

    mutating func recompute() {
        var w: Int64? = nil
        var any = false
        for p in partitions.values where !p.idle {
            guard let t = p.maxTime else { return }  // an active partition without a time holds it back
            w = min(w ?? t, t)
            any = true
        }
        // The watermark never moves back: an idle partition that returns cannot reopen windows.
        if any, let w { current = max(current ?? w, w) }
    }
}
