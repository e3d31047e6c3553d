import RocksDB

/// What reads of spilled parts wait for: a checkpoint gathered with parts in it that is not on
/// disk yet (`StateStore.prepare` marks it, `StateStore.write` clears the mark once RocksDB has
/// the batch). A read waits for that write instead of keeping a copy of the parts in memory;
/// it happens only when a window with spilled parts is emitted or queried meanwhile.
final class SpillParts: @unchecked Sendable {  // `unwritten` and `failure` only under `condition`
    private let condition = ThreadCondition()
    private var unwritten = false
    /// The first read that failed (the engine stops on it).
    private var failure: String?

    /// A checkpoint with parts is gathered and not written yet.
    func prepared() {
        condition.lock()
        unwritten = true
        condition.unlock()
    }

    /// Its write is done (or failed: then `failure` says so).
    func written(failed: String? = nil) {
        condition.lock()
        unwritten = false
        if let failed, failure == nil { failure = "a checkpoint with spilled parts was not written (\(failed))" }
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once no gathered part is missing from RocksDB.
    func waitUntilWritten() {
        condition.lock()
        while unwritten { condition.wait() }
        condition.unlock()
    }

    /// Records a failed read; the first one is kept.
    func fail(_ message: String) {
        condition.lock()
        if failure == nil { failure = message }
        condition.unlock()
    }

    /// The first failed read, if any: what was read since is incomplete.
    func firstFailure() -> String? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }
}

/// One definition's spilled parts, read for its `WindowOperator`.
final class StoredSpill: SpillStore {
    let db: Database
    let family: ColumnFamily
    let name: String
    let parts: SpillParts
    /// Doubles per part.
    let stride: Int

    init(db: Database, family: ColumnFamily, name: String, parts: SpillParts, stride: Int) {
        self.db = db
        self.family = family
        self.name = name
        self.parts = parts
        self.stride = stride
    }

    func parts(slice: Int64) -> any SpillCursor {
        cursor(StateKeys.spillPrefix(slice: slice), bulk: true)
    }

    func forEachPart(slice: Int64, key: [UInt8], _ body: (UnsafeBufferPointer<Double>) -> Void) {
        let c = cursor(StateKeys.spillPrefix(slice: slice, key: key), bulk: false)
        while c.key != nil {
            body(c.values)
            c.next()
        }
    }

    /// The parts under `prefix`, once no gathered part is missing from RocksDB; `bulk` for a
    /// whole slice's (read ahead, kept out of the block cache: each part is read once).
    private func cursor(_ prefix: [UInt8], bulk: Bool) -> StoredSpillCursor {
        parts.waitUntilWritten()
        var iterator: Iterator?
        do {
            iterator = try db.iterator(family, prefix: prefix, bulk: bulk)
        } catch {
            parts.fail("cannot read the spilled state of \(name): \(error)")
        }
        return StoredSpillCursor(iterator: iterator, stride: stride, name: name, parts: parts)
    }
}

/// A slice's parts in key order, as RocksDB holds them (an iterator reads one consistent view).
final class StoredSpillCursor: SpillCursor {
    let iterator: Iterator?
    let stride: Int
    let name: String
    let parts: SpillParts
    private var keyBuffer: UnsafeMutableRawBufferPointer
    private let valueBuffer: UnsafeMutableBufferPointer<Double>
    private(set) var key: UnsafeRawBufferPointer?
    var values: UnsafeBufferPointer<Double> { UnsafeBufferPointer(valueBuffer) }

    init(iterator: Iterator?, stride: Int, name: String, parts: SpillParts) {
        self.iterator = iterator
        self.stride = stride
        self.name = name
        self.parts = parts
        keyBuffer = .allocate(byteCount: 256, alignment: 8)
        valueBuffer = .allocate(capacity: stride)
        settle()
    }

    deinit {
        keyBuffer.deallocate()
        valueBuffer.deallocate()
    }

    func next() {
        guard key != nil else { return }
        iterator?.next()
        settle()
    }

    /// Copies the iterator's current part into the buffers (`key` nil at the end or on an error).
    private func settle() {
        key = nil
        guard let it = iterator else { return }
        guard it.isValid else {
            do { try it.checkStatus() } catch { parts.fail("cannot read the spilled state of \(name): \(error)") }
            return
        }
        let ok: Bool = it.withKey { k in
            it.withValue { v in
                guard let (_, groupKey) = StateKeys.parseSpill(k), v.count == stride * 8 else { return false }
                copyKey(groupKey)
                for i in 0..<stride {
                    valueBuffer[i] = Double(bitPattern: UInt64(littleEndian: v.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                }
                return true
            }
        }
        if !ok {
            parts.fail("a spilled part of \(name) is damaged (wrong size). Run with --reset-state \(name) to rebuild its state")
            key = nil
        }
    }

    private func copyKey(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > keyBuffer.count {
            keyBuffer.deallocate()
            keyBuffer = .allocate(byteCount: bytes.count, alignment: 8)
        }
        if bytes.count > 0 { keyBuffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        key = UnsafeRawBufferPointer(start: keyBuffer.baseAddress, count: bytes.count)
    }
}
