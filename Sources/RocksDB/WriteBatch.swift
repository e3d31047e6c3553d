import CRocksDB

/// Puts and deletes across column families that `Database.write(_:sync:)` applies atomically: after
/// a crash either all of them are there or none. Tally's checkpoint is one batch (window state of
/// every definition plus offsets and watermarks in `_meta`).
///
/// The batch copies keys and values as they are added, so the caller's buffers can be reused at once.
public final class WriteBatch {
    let pointer: OpaquePointer
    /// The database whose families the batch names: RocksDB records a family by its number, which
    /// means something else in another database.
    private(set) var owner: ObjectIdentifier?

    /// An empty batch.
    public init() { pointer = rocksdb_writebatch_create() }

    deinit { rocksdb_writebatch_destroy(pointer) }

    /// The number of puts, deletes and range deletes in the batch.
    public var count: Int { Int(rocksdb_writebatch_count(pointer)) }

    /// Empties the batch so it can be filled again without a new allocation.
    public func clear() {
        rocksdb_writebatch_clear(pointer)
        owner = nil
    }

    /// Adds a put of `value` under `key` in `family`.
    public func put(_ family: ColumnFamily, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer)
        throws(RocksDBError)
    {
        let handle = try handle(of: family, for: "batch put into \(family.name)")
        rocksdb_writebatch_put_cf(
            pointer, handle, Bytes.start(key), key.count, Bytes.start(value), value.count)
    }

    /// Adds a put of `value` under `key` in `family`.
    public func put(_ family: ColumnFamily, _ key: [UInt8], _ value: [UInt8]) throws(RocksDBError) {
        try Bytes.with(key, value) { key, value throws(RocksDBError) in try put(family, key, value) }
    }

    /// Adds a delete of `key` in `family`.
    public func delete(_ family: ColumnFamily, _ key: UnsafeRawBufferPointer) throws(RocksDBError) {
        let handle = try handle(of: family, for: "batch delete from \(family.name)")
        rocksdb_writebatch_delete_cf(pointer, handle, Bytes.start(key), key.count)
    }

    /// Adds a delete of `key` in `family`.
    public func delete(_ family: ColumnFamily, _ key: [UInt8]) throws(RocksDBError) {
        try Bytes.with(key) { key throws(RocksDBError) in try delete(family, key) }
    }

    /// Adds a delete of every key `k` of `family` with `from <= k < to`.
    public func deleteRange(_ family: ColumnFamily, from: UnsafeRawBufferPointer, to: UnsafeRawBufferPointer)
        throws(RocksDBError)
    {
        let handle = try handle(of: family, for: "batch delete range from \(family.name)")
        rocksdb_writebatch_delete_range_cf(
            pointer, handle, Bytes.start(from), from.count, Bytes.start(to), to.count)
    }

    /// Adds a delete of every key `k` of `family` with `from <= k < to`.
    public func deleteRange(_ family: ColumnFamily, from: [UInt8], to: [UInt8]) throws(RocksDBError) {
        try Bytes.with(from, to) { from, to throws(RocksDBError) in try deleteRange(family, from: from, to: to) }
    }

    /// The live handle of `family`, which must belong to the same database as the rest of the batch.
    private func handle(of family: ColumnFamily, for operation: @autoclosure () -> String)
        throws(RocksDBError) -> OpaquePointer
    {
        if let owner, owner != family.owner {
            throw RocksDBError(operation(), "the batch already holds writes for another database")
        }
        let handle = try family.liveHandle(for: operation())
        owner = family.owner
        return handle
    }
}
