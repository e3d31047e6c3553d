import CRocksDB

/// A cursor over one column family in byte order of keys, optionally bounded and reading a snapshot.
///
/// Typical use: `seek(to:)` or `seekToFirst()`, then read `key`/`value` and call `next()` while
/// `isValid`; when it turns false, `checkStatus()` tells the end of the data from a read error.
/// Freed when the last reference goes, or by `Database.close()`; after that it is never valid.
public final class Iterator: DatabaseResource {
    private let database: Database
    /// Must outlive `pointer`: RocksDB keeps pointers into it (the bounds).
    private let readOptions: ReadOptions
    /// Kept so that the snapshot this iterator reads is not released before it.
    private let snapshot: Snapshot?
    private var pointer: OpaquePointer?

    init(database: Database, family: OpaquePointer, readOptions: ReadOptions, snapshot: Snapshot?)
        throws(RocksDBError)
    {
        self.database = database
        self.readOptions = readOptions
        self.snapshot = snapshot
        let handle = try database.liveHandle(for: "create iterator")
        pointer = rocksdb_create_iterator_cf(handle, readOptions.pointer, family)
        database.register(self)
    }

    func release() {
        if let pointer { rocksdb_iter_destroy(pointer) }
        pointer = nil
    }

    deinit {
        release()
        database.forget(ObjectIdentifier(self))
    }

    /// Whether the iterator is on an entry; false past the end (or bound) and after an error.
    public var isValid: Bool { pointer.map { rocksdb_iter_valid($0) != 0 } ?? false }

    /// Moves to the first key (at or after the lower bound, if any).
    public func seekToFirst() { if let pointer { rocksdb_iter_seek_to_first(pointer) } }

    /// Moves to the last key (before the upper bound, if any).
    public func seekToLast() { if let pointer { rocksdb_iter_seek_to_last(pointer) } }

    /// Moves to the first key at or after `key`.
    public func seek(to key: UnsafeRawBufferPointer) {
        if let pointer { rocksdb_iter_seek(pointer, Bytes.start(key), key.count) }
    }

    /// Moves to the first key at or after `key`.
    public func seek(to key: [UInt8]) { key.withUnsafeBytes { seek(to: $0) } }

    /// Moves to the next key; does nothing when not valid.
    public func next() { if isValid { rocksdb_iter_next(pointer) } }

    /// Moves to the previous key; does nothing when not valid.
    public func previous() { if isValid { rocksdb_iter_prev(pointer) } }

    /// A copy of the current key; empty when not valid.
    public var key: [UInt8] { withKey { Array($0) } }

    /// A copy of the current value; empty when not valid.
    public var value: [UInt8] { withValue { Array($0) } }

    /// Calls `body` with the current key in RocksDB's memory, without copying; the buffer is valid
    /// only during the call, and empty when the iterator is not valid.
    public func withKey<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        guard isValid else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        var length = 0
        let start = rocksdb_iter_key(pointer, &length)
        return try body(UnsafeRawBufferPointer(start: start, count: length))
    }

    /// Calls `body` with the current value in RocksDB's memory, without copying; the buffer is valid
    /// only during the call, and empty when the iterator is not valid.
    public func withValue<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        guard isValid else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        var length = 0
        let start = rocksdb_iter_value(pointer, &length)
        return try body(UnsafeRawBufferPointer(start: start, count: length))
    }

    /// Throws the read error that made the iterator stop, if any (a damaged block, an I/O error), or
    /// when the database was closed under it.
    public func checkStatus() throws(RocksDBError) {
        guard let pointer else { throw RocksDBError("iterate \(database.path)", "iterator was freed by close()") }
        try RocksDBError.call("iterate \(database.path)") { rocksdb_iter_get_error(pointer, $0) }
    }
}
