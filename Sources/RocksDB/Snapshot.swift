import CRocksDB

/// A consistent, read-only view of the database as it was when the snapshot was taken; reads and
/// iterators given it ignore later writes.
///
/// Released when the last reference goes, or by `Database.close()`, which must release it first.
/// Reading through a released snapshot throws.
public final class Snapshot: DatabaseResource {
    private let database: Database
    private(set) var pointer: OpaquePointer?

    init(database: Database, pointer: OpaquePointer) {
        self.database = database
        self.pointer = pointer
        database.register(self)
    }

    /// Whether the snapshot can still be read from.
    public var isOpen: Bool { pointer != nil }

    func release() {
        guard let pointer else { return }
        // The database registry calls this before closing, so its handle is still live here.
        if let handle = try? database.liveHandle(for: "release snapshot") {
            rocksdb_release_snapshot(handle, pointer)
        }
        self.pointer = nil
    }

    /// The live pointer, or an error naming `operation` once released.
    func livePointer(for operation: @autoclosure () -> String) throws(RocksDBError) -> OpaquePointer {
        guard let pointer else { throw RocksDBError(operation(), "snapshot was released") }
        return pointer
    }

    deinit {
        release()
        database.forget(ObjectIdentifier(self))
    }
}

extension Database {
    /// Takes a snapshot of the database's current state.
    public func snapshot() throws(RocksDBError) -> Snapshot {
        let handle = try liveHandle(for: "snapshot \(path)")
        return Snapshot(database: self, pointer: rocksdb_create_snapshot(handle))
    }
}
