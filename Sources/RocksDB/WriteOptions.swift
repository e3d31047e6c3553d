import CRocksDB

/// Owns a `rocksdb_writeoptions_t`.
final class WriteOptions {
    let pointer: OpaquePointer

    /// With `sync`, a write returns only after the WAL is fsynced, so it survives a power loss.
    init(sync: Bool) {
        pointer = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(pointer, sync ? 1 : 0)
    }

    deinit { rocksdb_writeoptions_destroy(pointer) }
}
