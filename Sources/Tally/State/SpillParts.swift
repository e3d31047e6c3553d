import RocksDB
import Synchronization

/// The spilled parts of every definition, as its operator reads them back: those in RocksDB, and
/// those of the checkpoint gathered but not yet written (`StateStore.prepare` hands them over,
/// `StateStore.write` drops them once its batch is on disk). Reads and that write hold one lock,
/// so a read meets each part exactly once: either still here or already in RocksDB.
final class SpillParts: @unchecked Sendable {  // `pending` and `failure` only under `mutex`
    private let mutex = Mutex(())
    /// Per definition, per slice, per group key: parts not yet on disk.
    private var pending: [String: [Int64: [[UInt8]: [[Double]]]]] = [:]
    /// The first read that failed (the engine stops on it).
    private var failure: String?

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }

    /// Notes a part handed to a checkpoint that is not written yet.
    func add(_ name: String, slice: Int64, key: [UInt8], values: UnsafeBufferPointer<Double>) {
        withLock { pending[name, default: [:]][slice, default: [:]][key, default: []].append(Array(values)) }
    }

    /// Forgets the pending parts: call with the lock held, right after their batch is written.
    func writtenLocked() { pending.removeAll(keepingCapacity: true) }

    /// Pending parts of one slice (lock held).
    func pendingLocked(_ name: String, slice: Int64) -> [[UInt8]: [[Double]]]? { pending[name]?[slice] }

    /// Records a failed read (lock held); the first one is kept.
    func failLocked(_ message: String) { if failure == nil { failure = message } }

    /// The first failed read, if any: what was read since is incomplete.
    func firstFailure() -> String? { withLock { failure } }
}

/// One definition's spilled parts, read for its `WindowOperator`.
final class StoredSpill: SpillStore {
    let db: Database
    let family: ColumnFamily
    let name: String
    let parts: SpillParts
    /// Doubles per part.
    let stride: Int
    private var scratch: [Double]

    init(db: Database, family: ColumnFamily, name: String, parts: SpillParts, stride: Int) {
        self.db = db
        self.family = family
        self.name = name
        self.parts = parts
        self.stride = stride
        scratch = [Double](repeating: 0, count: stride)
    }

    func forEachPart(slice: Int64, _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Double>) -> Void) {
        parts.withLock {
            read(StateKeys.spillPrefix(slice: slice)) { key, values in body(key, values) }
            for (key, list) in parts.pendingLocked(name, slice: slice) ?? [:] {
                key.withUnsafeBytes { k in for p in list { p.withUnsafeBufferPointer { body(k, $0) } } }
            }
        }
    }

    func forEachPart(slice: Int64, key: [UInt8], _ body: (UnsafeBufferPointer<Double>) -> Void) {
        parts.withLock {
            read(StateKeys.spillPrefix(slice: slice, key: key)) { _, values in body(values) }
            for p in parts.pendingLocked(name, slice: slice)?[key] ?? [] { p.withUnsafeBufferPointer { body($0) } }
        }
    }

    /// The stored parts under `prefix` (lock held); a read error or a damaged entry is recorded.
    private func read(_ prefix: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Double>) -> Void) {
        do {
            let it = try db.iterator(family, prefix: prefix)
            while it.isValid {
                let ok = it.withKey { k in
                    it.withValue { v in
                        guard let (_, key) = StateKeys.parseSpill(k), v.count == stride * 8 else { return false }
                        scratch.withUnsafeMutableBufferPointer { s in
                            for i in 0..<stride {
                                s[i] = Double(bitPattern: UInt64(littleEndian: v.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                            }
                        }
                        scratch.withUnsafeBufferPointer { body(key, $0) }
                        return true
                    }
                }
                if !ok {
                    parts.failLocked("a spilled part of \(name) is damaged (wrong size). Run with --reset-state \(name) to rebuild its state")
                    return
                }
                it.next()
            }
            try it.checkStatus()
        } catch {
            parts.failLocked("cannot read the spilled state of \(name): \(error)")
        }
    }
}
