import CRocksDB

/// A column family of one open `Database`: a separate key space with its own files, which can be
/// dropped as a whole (Tally keeps one per definition, and `_meta`).
///
/// The database owns the C handle: it frees it when the family is dropped or the database closes,
/// because RocksDB forbids destroying a handle after its database is closed. Using the family after
/// that throws.
public final class ColumnFamily {
    /// The family's name.
    public let name: String
    /// The database this handle belongs to, so a handle of another database is refused.
    let owner: ObjectIdentifier
    private(set) var handle: OpaquePointer?

    init(name: String, handle: OpaquePointer, owner: ObjectIdentifier) {
        self.name = name
        self.handle = handle
        self.owner = owner
    }

    /// Whether the family can still be used: not dropped, database not closed.
    public var isOpen: Bool { handle != nil }

    /// Frees the C handle; called by the database on drop and close, while RocksDB is still open.
    func release() {
        if let handle { rocksdb_column_family_handle_destroy(handle) }
        handle = nil
    }

    /// The live handle, or an error naming `operation` when the family was dropped or closed.
    func liveHandle(for operation: @autoclosure () -> String) throws(RocksDBError) -> OpaquePointer {
        guard let handle else {
            throw RocksDBError(operation(), "column family '\(name)' was dropped or its database closed")
        }
        return handle
    }

    deinit { release() }
}
