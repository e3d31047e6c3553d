import RocksDB

/// Reads a definition's stored slices on a thread of its own, in chunks, so that RocksDB's
/// iteration (about a third of a restore) overlaps with putting the slices back into the operator.
/// At most `maxReady` chunks wait: memory stays bounded however large the state.
final class SliceReader: @unchecked Sendable {
    // Safe to share: `ready`, `done`, `cancelled` and `failure` are guarded by `condition`; the
    // database and family are only read, and RocksDB iterators may run on any thread.

    /// Entries side by side: key bytes then value bytes, `width` bytes of values each.
    struct Chunk {
        var bytes: [UInt8] = []
        var keys: [(start: Int, count: Int)] = []
    }

    static let chunkEntries = 4096
    static let maxReady = 4

    private let db: Database
    private let family: ColumnFamily
    private let name: String
    private let width: Int
    private let condition = ThreadCondition()
    private var ready: [Chunk] = []
    private var done = false
    private var cancelled = false
    private var failure: Error?

    private struct Cancelled: Error {}

    /// Starts reading the slice entries of definition `name` in `family`, each of `width` value bytes.
    init(db: Database, family: ColumnFamily, name: String, width: Int) {
        self.db = db
        self.family = family
        self.name = name
        self.width = width
        if OSThread.start(name: "tally-restore", { [self] in read() }) != 0 {
            failure = StateError("cannot start a thread to read the state")
            done = true
        }
    }

    /// The next chunk, or nil at the end; throws what stopped the reading.
    func next() throws -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !done { condition.wait() }
        if !ready.isEmpty {
            let chunk = ready.removeFirst()
            condition.broadcast()
            return chunk
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the reading (if it still runs) and waits for the thread to end.
    func finish() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
    }

    private func read() {
        var chunk = Chunk()
        var error: Error?
        do {
            try db.forEach(in: family, from: [StateKeys.slicePrefix], to: [StateKeys.slicePrefix + 1], bulk: true) { k, v in
                guard v.count == width, k.count >= 9 else {
                    throw StateError("a stored slice of \(name) has \(v.count / 8) values, expected \(width / 8): the state is damaged. Run with --reset-state \(name) to rebuild it.")
                }
                chunk.keys.append((chunk.bytes.count, k.count))
                chunk.bytes.append(contentsOf: k)
                chunk.bytes.append(contentsOf: v)
                if chunk.keys.count == Self.chunkEntries {
                    try hand(chunk)
                    chunk = Chunk()
                }
            }
            if !chunk.keys.isEmpty { try hand(chunk) }
        } catch is Cancelled {
        } catch let e {
            error = e
        }
        condition.lock()
        failure = error
        done = true
        condition.broadcast()
        condition.unlock()
    }

    private func hand(_ chunk: Chunk) throws {
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= Self.maxReady && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        ready.append(chunk)
        condition.broadcast()
    }
}
