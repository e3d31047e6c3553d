import CRocksDB

extension Database {
    /// Applies every write of `batch` atomically. With `sync`, returns only after the WAL is fsynced,
    /// so the batch survives a crash or power loss (checkpoints need this); without it a process crash
    /// loses nothing but an OS crash may lose the last writes.
    ///
    /// Measured on the 2-core dev VM (ext4, release build, 8-byte keys, 32-byte values, batches of
    /// 10k puts): ~0.85M puts/s without sync, ~0.5M puts/s with sync; an almost empty synced batch
    /// costs ~0.45 ms. So a checkpoint per second pays little for `sync: true`.
    public func write(_ batch: WriteBatch, sync: Bool) throws(RocksDBError) {
        let operation = "write batch of \(batch.count) to \(path)"
        let handle = try liveHandle(for: operation)
        if let owner = batch.owner, owner != ObjectIdentifier(self) {
            throw RocksDBError(operation, "the batch holds writes for another database's column families")
        }
        let write = sync ? syncWrite : plainWrite
        try RocksDBError.call(operation) { rocksdb_write(handle, write.pointer, batch.pointer, $0) }
    }

    /// Writes the memtables of every column family to SST files and waits for it, so a later open
    /// has no WAL to replay. Not needed for durability: the WAL already is.
    public func flush() throws(RocksDBError) {
        let operation = "flush \(path)"
        let handle = try liveHandle(for: operation)
        let options = rocksdb_flushoptions_create()
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        for family in families.values {
            let familyHandle = try self.handle(of: family, for: operation)
            try RocksDBError.call(operation) { rocksdb_flush_cf(handle, options, familyHandle, $0) }
        }
    }

    /// Lets compactions start by themselves again in every column family, after an open with
    /// `Options.autoCompactions` off.
    public func resumeAutoCompactions() throws(RocksDBError) {
        let operation = "resume compactions in \(path)"
        let handle = try liveHandle(for: operation)
        for family in families.values {
            let familyHandle = try self.handle(of: family, for: operation)
            try RocksDBError.call(operation) { error in
                "disable_auto_compactions".withCString { key in
                    "false".withCString { value in
                        var keys: [UnsafePointer<CChar>?] = [key]
                        var values: [UnsafePointer<CChar>?] = [value]
                        rocksdb_set_options_cf(handle, familyHandle, 1, &keys, &values, error)
                    }
                }
            }
        }
    }

    /// A RocksDB property of `family` (`rocksdb.num-files-at-level0`, …), nil when unknown.
    public func property(_ name: String, of family: ColumnFamily) throws(RocksDBError) -> String? {
        let operation = "read property \(name) of \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        guard let value = rocksdb_property_value_cf(handle, familyHandle, name) else { return nil }
        defer { rocksdb_free(value) }
        return String(cString: value)
    }

    /// Tries to rebuild a damaged database at `path` from whatever SST and WAL files survive; data in
    /// damaged files is lost. The database must not be open. Rebuilt files are written without
    /// compression (later compactions compress them), so repair works whatever this RocksDB build
    /// links.
    public static func repair(path: String) throws(RocksDBError) {
        let options = OpenOptions(Options(), compression: .none)
        try RocksDBError.call("repair \(path)") { rocksdb_repair_db(options.pointer, path, $0) }
    }
}
