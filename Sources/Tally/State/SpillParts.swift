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

    /// Records a failed read.
    func fail(_ message: String) { withLock { failLocked(message) } }

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

    func parts(slice: Int64) -> any SpillCursor {
        // A snapshot and the pending parts taken together: a write finishing meanwhile is in neither.
        var snapshot: Snapshot?
        var pending: [(key: [UInt8], values: [Double])] = []
        parts.withLock {
            do { snapshot = try db.snapshot() } catch { parts.failLocked("cannot read the spilled state of \(name): \(error)") }
            for (key, list) in parts.pendingLocked(name, slice: slice) ?? [:] { for p in list { pending.append((key, p)) } }
        }
        pending.sort { a, b in a.key.withUnsafeBytes { x in b.key.withUnsafeBytes { y in spillOrder(x, y) < 0 } } }
        var iterator: Iterator?
        if let snapshot {
            do {
                iterator = try db.iterator(family, prefix: StateKeys.spillPrefix(slice: slice), snapshot: snapshot)
            } catch {
                parts.fail("cannot read the spilled state of \(name): \(error)")
            }
        }
        return StoredSpillCursor(iterator: iterator, snapshot: snapshot, pending: pending, stride: stride, name: name, parts: parts)
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

/// A slice's parts in key order: RocksDB's (through a snapshot) merged with the pending ones.
final class StoredSpillCursor: SpillCursor {
    let iterator: Iterator?
    let snapshot: Snapshot?  // kept for the iterator's lifetime
    let pending: [(key: [UInt8], values: [Double])]
    var index = 0
    let stride: Int
    let name: String
    let parts: SpillParts
    /// Whether the current part is the iterator's (else `pending[index]`'s).
    var fromStore = false
    private var keyBuffer: UnsafeMutableRawBufferPointer
    private let valueBuffer: UnsafeMutableBufferPointer<Double>
    private(set) var key: UnsafeRawBufferPointer?
    var values: UnsafeBufferPointer<Double> { UnsafeBufferPointer(valueBuffer) }

    init(iterator: Iterator?, snapshot: Snapshot?, pending: [(key: [UInt8], values: [Double])], stride: Int, name: String, parts: SpillParts) {
        self.iterator = iterator
        self.snapshot = snapshot
        self.pending = pending
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
        if key == nil { return }
        if fromStore { iterator?.next() } else { index += 1 }
        settle()
    }

    /// Copies the smaller of the two sources' current parts into the buffers.
    private func settle() {
        var storeKey: UnsafeRawBufferPointer? = nil
        if let it = iterator, it.isValid {
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
            guard ok else {
                parts.fail("a spilled part of \(name) is damaged (wrong size). Run with --reset-state \(name) to rebuild its state")
                key = nil
                return
            }
            storeKey = key
        } else if let it = iterator {
            do { try it.checkStatus() } catch { parts.fail("cannot read the spilled state of \(name): \(error)") }
        }
        if index < pending.count {
            let p = pending[index]
            let pendingFirst = p.key.withUnsafeBytes { pk in storeKey.map { spillOrder(pk, $0) < 0 } ?? true }
            if pendingFirst {
                copyKey(p.key)
                for i in 0..<stride { valueBuffer[i] = p.values[i] }
                fromStore = false
                return
            }
        }
        fromStore = storeKey != nil
        if storeKey == nil { key = nil }
    }

    private func copyKey(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > keyBuffer.count {
            keyBuffer.deallocate()
            keyBuffer = .allocate(byteCount: bytes.count, alignment: 8)
        }
        if bytes.count > 0 { keyBuffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        key = UnsafeRawBufferPointer(start: keyBuffer.baseAddress, count: bytes.count)
    }

    private func copyKey(_ bytes: [UInt8]) { bytes.withUnsafeBytes { copyKey($0) } }
}
