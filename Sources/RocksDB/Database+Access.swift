import CRocksDB

extension Database {
    /// The value stored under `key` in `family`, or nil; through `snapshot` when given.
    public func get(
        _ family: ColumnFamily, _ key: UnsafeRawBufferPointer, snapshot: Snapshot? = nil
    ) throws(RocksDBError) -> [UInt8]? {
        let operation = "get from \(family.name) in \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        let read = try snapshot.map { snapshot throws(RocksDBError) in
            ReadOptions(snapshot: try snapshot.livePointer(for: operation))
        } ?? plainRead
        let slice = try RocksDBError.call(operation) {
            rocksdb_get_pinned_cf(handle, read.pointer, familyHandle, Bytes.start(key), key.count, $0)
        }
        guard let slice else { return nil }  // NULL without an error: the key is absent
        defer { rocksdb_pinnableslice_destroy(slice) }
        var length = 0
        let value = rocksdb_pinnableslice_value(slice, &length)
        return Bytes.array(value, length)
    }

    /// The value stored under `key` in `family`, or nil; through `snapshot` when given.
    public func get(_ family: ColumnFamily, _ key: [UInt8], snapshot: Snapshot? = nil) throws(RocksDBError)
        -> [UInt8]?
    {
        try Bytes.with(key) { key throws(RocksDBError) in try get(family, key, snapshot: snapshot) }
    }

    /// Stores `value` under `key` in `family`; with `sync`, after the WAL is fsynced.
    public func put(
        _ family: ColumnFamily, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer,
        sync: Bool = false
    ) throws(RocksDBError) {
        let operation = "put into \(family.name) in \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        let write = sync ? syncWrite : plainWrite
        try RocksDBError.call(operation) {
            rocksdb_put_cf(
                handle, write.pointer, familyHandle, Bytes.start(key), key.count,
                Bytes.start(value), value.count, $0)
        }
    }

    /// Stores `value` under `key` in `family`; with `sync`, after the WAL is fsynced.
    public func put(_ family: ColumnFamily, _ key: [UInt8], _ value: [UInt8], sync: Bool = false)
        throws(RocksDBError)
    {
        try Bytes.with(key, value) { key, value throws(RocksDBError) in
            try put(family, key, value, sync: sync)
        }
    }

    /// Removes `key` from `family` (no error when it is absent); with `sync`, after the WAL is fsynced.
    public func delete(_ family: ColumnFamily, _ key: UnsafeRawBufferPointer, sync: Bool = false)
        throws(RocksDBError)
    {
        let operation = "delete from \(family.name) in \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        let write = sync ? syncWrite : plainWrite
        try RocksDBError.call(operation) {
            rocksdb_delete_cf(handle, write.pointer, familyHandle, Bytes.start(key), key.count, $0)
        }
    }

    /// Removes `key` from `family` (no error when it is absent); with `sync`, after the WAL is fsynced.
    public func delete(_ family: ColumnFamily, _ key: [UInt8], sync: Bool = false) throws(RocksDBError) {
        try Bytes.with(key) { key throws(RocksDBError) in try delete(family, key, sync: sync) }
    }

    /// Removes every key `k` of `family` with `from <= k < to` in one range tombstone, whatever the
    /// number of keys; with `sync`, after the WAL is fsynced.
    public func deleteRange(
        _ family: ColumnFamily, from: UnsafeRawBufferPointer, to: UnsafeRawBufferPointer, sync: Bool = false
    ) throws(RocksDBError) {
        let operation = "delete range from \(family.name) in \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        let write = sync ? syncWrite : plainWrite
        try RocksDBError.call(operation) {
            rocksdb_delete_range_cf(
                handle, write.pointer, familyHandle, Bytes.start(from), from.count,
                Bytes.start(to), to.count, $0)
        }
    }

    /// Removes every key `k` of `family` with `from <= k < to` in one range tombstone, whatever the
    /// number of keys; with `sync`, after the WAL is fsynced.
    public func deleteRange(_ family: ColumnFamily, from: [UInt8], to: [UInt8], sync: Bool = false)
        throws(RocksDBError)
    {
        try Bytes.with(from, to) { from, to throws(RocksDBError) in
            try deleteRange(family, from: from, to: to, sync: sync)
        }
    }
}
