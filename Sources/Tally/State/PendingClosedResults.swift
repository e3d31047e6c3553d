/// A definition's final results emitted since the last checkpoint, kept for key queries until
/// the checkpoint that stores them is written. They are kept as the store will: one
/// `ClosedResultsBatch` per shard (-1 outside group mode), ~50 bytes a result for five
/// aggregates, and a checkpoint hands these very batches to the store (shared, not copied), so
/// the results of a backlog are held once until they are on disk.
struct PendingClosedResults {
    /// Values per result.
    let width: Int
    /// Results emitted since the last checkpoint began, by shard.
    private var current: [Int32: ClosedResultsBatch] = [:]
    /// Results of the checkpoint being written, until `written()`.
    private var writing: [Int32: ClosedResultsBatch] = [:]

    init(width: Int) { self.width = width }

    /// Number of results held (both those of the checkpoint being written and those since).
    var count: Int {
        current.values.reduce(0) { $0 + $1.count } + writing.values.reduce(0) { $0 + $1.count }
    }

    /// Adds the final ones of `results` (whose width must be `width`), emitted by `shard`.
    mutating func appendFinal(of results: ResultBatch, shard: Int32) {
        current[shard, default: ClosedResultsBatch()].appendFinal(of: results)
    }

    /// Adds a final result (its values must number `width`) of `shard`.
    mutating func append(_ r: WindowResult, shard: Int32 = -1) {
        var one = ResultBatch(width: width)
        one.append(r)
        appendFinal(of: one, shard: shard)
    }

    /// The results so far, by shard, for a checkpoint to store: queries still find them here
    /// until `written()`; results appended from now on belong to the next checkpoint.
    mutating func beginCheckpoint() -> [Int32: ClosedResultsBatch] {
        precondition(writing.isEmpty, "a checkpoint began before the previous one was written")
        writing = current
        current = [:]
        return writing
    }

    /// The checkpoint that `beginCheckpoint` fed is on disk: its results are the store's now.
    mutating func written() {
        writing = [:]
    }

    /// The results held for `key`, one per window start.
    func results(of key: [UInt8]) -> [(start: Int64, values: [Double?])] {
        var out: [(start: Int64, values: [Double?])] = []
        for batch in writing.values { out += batch.results(of: key, width: width) }
        for batch in current.values { out += batch.results(of: key, width: width) }
        return out
    }
}
