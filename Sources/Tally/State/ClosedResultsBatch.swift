/// The final results of one definition since the last checkpoint, grouped the way the store
/// keeps them for queries: per window start, 64 bucket blobs of `[key length][key][values]`
/// entries (see `StateKeys`). Filled as results are sent, so a checkpoint only writes the blobs.
public struct ClosedResultsBatch: Sendable {
    private var byStart: [Int64: [[UInt8]]] = [:]
    private var currentStart: Int64?
    private var current: [[UInt8]] = []
    /// Number of results appended.
    public private(set) var count = 0

    /// An empty batch.
    public init() {}

    /// A batch of `results`, in order.
    public init(_ results: [WindowResult]) {
        for r in results { append(r) }
    }

    /// Adds one final result. A window's results come out together, so the current window's
    /// buckets are found without hashing.
    public mutating func append(_ r: WindowResult) {
        if r.start != currentStart {
            if let s = currentStart { byStart[s] = current }
            currentStart = r.start
            current = byStart.removeValue(forKey: r.start) ?? Array(repeating: [], count: StateKeys.closedBuckets)
        }
        StateKeys.appendClosed(key: r.key, values: r.values, to: &current[Int(StateKeys.bucket(r.key))])
        count += 1
    }

    /// Every non-empty bucket: its store key and blob.
    public func entries() -> [(key: [UInt8], blob: [UInt8])] {
        var all = byStart
        if let s = currentStart { all[s] = current }
        var out: [(key: [UInt8], blob: [UInt8])] = []
        for (start, buckets) in all {
            for (b, blob) in buckets.enumerated() where !blob.isEmpty {
                out.append((StateKeys.closed(start: start, bucket: UInt8(b)), blob))
            }
        }
        return out
    }
}
