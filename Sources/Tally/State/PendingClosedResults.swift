/// A definition's final results emitted since the last checkpoint, kept for key queries until
/// the checkpoint that stores them is written. Entries are laid out as the store's closed-result
/// buckets (`StateKeys.appendClosed`), in runs of one window start each: about 50 bytes a result
/// for five aggregates, instead of a `WindowResult` and its two arrays (~200 bytes, all held
/// until the checkpoint: 55 MB over the 270k results of a 1M-event backlog).
struct PendingClosedResults {
    private struct Run {
        var start: Int64
        var count: Int
        var blob: [UInt8]
    }

    /// Values per result.
    let width: Int
    private var runs: [Run] = []
    /// Number of results held.
    private(set) var count = 0

    init(width: Int) { self.width = width }

    /// Adds final result `i` of `batch` (whose width must be `width`).
    mutating func append(_ batch: ResultBatch, _ i: Int) {
        let start = batch.start(i)
        if runs.last?.start != start { runs.append(Run(start: start, count: 0, blob: [])) }
        StateKeys.appendClosed(batch, i, to: &runs[runs.count - 1].blob)
        runs[runs.count - 1].count += 1
        count += 1
    }

    /// Adds a final result (its values must number `width`).
    mutating func append(_ r: WindowResult) {
        var one = ResultBatch(width: width)
        one.append(r)
        append(one, 0)
    }

    /// The results held for `key`, in the order they came.
    func results(of key: [UInt8]) -> [(start: Int64, values: [Double?])] {
        var out: [(start: Int64, values: [Double?])] = []
        for run in runs {
            // A key has one final result per window, so at most one per run.
            if let values = run.blob.withUnsafeBytes({ StateKeys.findClosed(key, in: $0, width: width) }) {
                out.append((run.start, values))
            }
        }
        return out
    }

    /// Drops the first `n` results (those a written checkpoint now holds).
    mutating func removeFirst(_ n: Int) {
        var left = min(n, count)
        count -= left
        var whole = 0
        while whole < runs.count && runs[whole].count <= left {
            left -= runs[whole].count
            whole += 1
        }
        runs.removeFirst(whole)
        guard left > 0 else { return }
        // Part of the first run: skip its first `left` entries.
        var offset = 0
        runs[0].blob.withUnsafeBytes { blob in
            for _ in 0..<left {
                let length = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                offset += 4 + length + width * 8
            }
        }
        runs[0].blob.removeFirst(offset)
        runs[0].count -= left
    }
}
