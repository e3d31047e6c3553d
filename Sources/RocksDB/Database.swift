import CRocksDB

/// An open RocksDB database with its column families.
///
/// Not `Sendable`: Tally's engine loop owns the database and answers queries itself. RocksDB is
/// thread-safe, but closing, dropping a family, and the bookkeeping of open iterators and snapshots
/// are not guarded here, so one isolation domain must own the object (it can be handed over with
/// `sending`).
public final class Database {
    /// The folder holding the database.
    public let path: String
    /// The compression new SST files use: the first of `Options.preferredCompressions` this RocksDB
    /// build supports, or `.none`.
    public let compression: Compression

    private var handle: OpaquePointer?
    let options: OpenOptions
    let syncWrite = WriteOptions(sync: true)
    let plainWrite = WriteOptions(sync: false)
    let plainRead = ReadOptions()
    var families: [String: ColumnFamily] = [:]
    /// Iterators and snapshots still alive: `close()` frees them before RocksDB closes, because RocksDB
    /// forbids freeing them after. Weak, so they can still go first on their own.
    private var resources: [ObjectIdentifier: WeakResource] = [:]

    init(path: String, handle: OpaquePointer, options: OpenOptions, compression: Compression) {
        self.path = path
        self.handle = handle
        self.options = options
        self.compression = compression
    }

    /// Whether `close()` has not been called yet.
    public var isOpen: Bool { handle != nil }

    /// Names of the open column families, sorted; always includes `default`.
    public var columnFamilyNames: [String] { families.keys.sorted() }

    /// Closes the database: frees open iterators and snapshots, then the family handles, then
    /// RocksDB. Calling it again does nothing; every later operation throws. Writes that returned
    /// are already in the WAL, so closing without a flush loses nothing.
    public func close() {
        guard let handle else { return }
        // Iterators first: one may read through a snapshot that is released next.
        let open = resources.values.compactMap(\.object)
        for resource in open where resource is Iterator { resource.release() }
        for resource in open where !(resource is Iterator) { resource.release() }
        resources.removeAll()
        for family in families.values { family.release() }
        families.removeAll()
        rocksdb_close(handle)
        self.handle = nil
    }

    deinit { close() }

    /// The live `rocksdb_t`, or an error naming `operation` after `close()`.
    func liveHandle(for operation: @autoclosure () -> String) throws(RocksDBError) -> OpaquePointer {
        guard let handle else { throw RocksDBError(operation(), "database \(path) is closed") }
        return handle
    }

    /// The live handle of `family`, checked to belong to this database.
    func handle(of family: ColumnFamily, for operation: @autoclosure () -> String) throws(RocksDBError)
        -> OpaquePointer
    {
        guard family.owner == ObjectIdentifier(self) else {
            throw RocksDBError(operation(), "column family '\(family.name)' belongs to another database")
        }
        return try family.liveHandle(for: operation())
    }

    /// Remembers `resource` so that `close()` frees it first.
    func register(_ resource: some DatabaseResource) {
        resources[ObjectIdentifier(resource)] = WeakResource(object: resource)
    }

    /// Forgets `resource`, which is freeing itself.
    func forget(_ id: ObjectIdentifier) { resources[id] = nil }
}

/// A C object made from a database that must be freed before the database closes.
protocol DatabaseResource: AnyObject {
    /// Frees the C object now; later use throws or does nothing.
    func release()
}

/// A weak reference, so the database's list does not keep iterators and snapshots alive.
struct WeakResource {
    weak var object: (any DatabaseResource)?
}
