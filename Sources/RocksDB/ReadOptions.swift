import CRocksDB

/// Owns a `rocksdb_readoptions_t` and the copies of its iterate bounds.
///
/// RocksDB keeps a pointer to the bound's bytes (through a Slice inside the options, which an
/// iterator copies by address), so both must outlive every iterator made with them: `Iterator` holds
/// its `ReadOptions` until after it destroys the C iterator.
final class ReadOptions {
    let pointer: OpaquePointer
    private var lowerBound: UnsafeMutableRawBufferPointer?
    private var upperBound: UnsafeMutableRawBufferPointer?

    /// Reads through `snapshot` (a live `rocksdb_snapshot_t`) when given, else the latest state.
    init(snapshot: OpaquePointer? = nil) {
        pointer = rocksdb_readoptions_create()
        if let snapshot { rocksdb_readoptions_set_snapshot(pointer, snapshot) }
    }

    /// Tunes the options for one long scan: blocks are read ahead and not kept in the block
    /// cache (a scan of the whole state would only evict what point reads use).
    func setBulkScan() {
        rocksdb_readoptions_set_fill_cache(pointer, 0)
        rocksdb_readoptions_set_readahead_size(pointer, 2 << 20)
    }

    /// Keeps iteration at or after `bound` (inclusive); the bytes are copied and kept here.
    func setLowerBound(_ bound: UnsafeRawBufferPointer) {
        let copy = Self.copy(bound)
        rocksdb_readoptions_set_iterate_lower_bound(pointer, Bytes.start(UnsafeRawBufferPointer(copy)), bound.count)
        lowerBound?.deallocate()
        lowerBound = copy
    }

    /// Stops iteration before `bound` (exclusive); the bytes are copied and kept here.
    func setUpperBound(_ bound: UnsafeRawBufferPointer) {
        let copy = Self.copy(bound)
        rocksdb_readoptions_set_iterate_upper_bound(pointer, Bytes.start(UnsafeRawBufferPointer(copy)), bound.count)
        upperBound?.deallocate()
        upperBound = copy
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        copy.copyMemory(from: bytes)
        return copy
    }

    deinit {
        rocksdb_readoptions_destroy(pointer)
        lowerBound?.deallocate()
        upperBound?.deallocate()
    }
}
