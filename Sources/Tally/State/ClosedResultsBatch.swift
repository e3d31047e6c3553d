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

    /// A batch of the final ones of `results`, in order.
    public init(_ results: ResultBatch) {
        appendFinal(of: results)
    }

    /// Adds the final ones of `results`, in order.
    public mutating func appendFinal(of results: ResultBatch) {
        for i in results.indices where results.isFinal(i) { append(results, i) }
    }

    /// Adds final result `i` of `results`. A window's results come out together, so the current
    /// window's buckets are found without hashing.
    public mutating func append(_ results: ResultBatch, _ i: Int) {
        let start = results.start(i)
        if start != currentStart {
            if let s = currentStart { byStart[s] = current }
            currentStart = start
            current = byStart.removeValue(forKey: start) ?? Array(repeating: [], count: StateKeys.closedBuckets)
        }
        StateKeys.appendClosed(results, i, to: &current[Int(StateKeys.bucket(results.key(i)))])
        count += 1
    }

    /// Adds one final result.
    public mutating func append(_ r: WindowResult) {
        var one = ResultBatch(width: r.values.count)
        one.append(r)
        append(one, 0)
    }

    /// Number of non-empty buckets (the store entries it writes).
    public var bucketCount: Int {
        var n = current.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
        for (_, buckets) in byStart { n += buckets.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) } }
        return n
    }

    /// The results of `key` (of `width` values each) in this batch, at most one per window start.
    func results(of key: [UInt8], width: Int) -> [(start: Int64, values: [Double?])] {
        let b = Int(StateKeys.bucket(key))
        var out: [(start: Int64, values: [Double?])] = []
        func look(_ start: Int64, _ buckets: [[UInt8]]) {
            if let values = buckets[b].withUnsafeBytes({ StateKeys.findClosed(key, in: $0, width: width) }) {
                out.append((start, values))
            }
        }
        for (start, buckets) in byStart { look(start, buckets) }
        if let s = currentStart { look(s, current) }
        return out
    }

    /// Calls `body` with every non-empty bucket's store key and blob, in key order (what a
    /// memtable inserts fastest), without copying the blobs.
    public func forEachBucket<E: Error>(_ body: (_ key: [UInt8], _ blob: [UInt8]) throws(E) -> Void) throws(E) {
        var all = byStart
        if let s = currentStart { all[s] = current }
        for start in all.keys.sorted() {
            for (b, blob) in all[start]!.enumerated() where !blob.isEmpty {
                try body(StateKeys.closed(start: start, bucket: UInt8(b)), blob)
            }
        }
    }
}
