import CRocksDB

extension Database {
    /// The open column family called `name`, or nil when the database has none by that name.
    public func columnFamily(named name: String) -> ColumnFamily? { families[name] }

    /// The column family called `name`, created when missing.
    @discardableResult
    public func createColumnFamily(named name: String) throws(RocksDBError) -> ColumnFamily {
        if let family = families[name] { return family }
        let operation = "create column family \(name) in \(path)"
        let handle = try liveHandle(for: operation)
        let created = try RocksDBError.call(operation) {
            rocksdb_create_column_family(handle, options.pointer, name, $0)
        }
        guard let created else { throw RocksDBError(operation, "RocksDB returned no column family") }
        let family = ColumnFamily(name: name, handle: created, owner: ObjectIdentifier(self))
        families[name] = family
        return family
    }

    /// Drops `family` with all its data (Tally resets one definition's state this way); its files go
    /// once no iterator or snapshot reads them. The handle is unusable afterwards; `default` cannot be
    /// dropped.
    public func dropColumnFamily(_ family: ColumnFamily) throws(RocksDBError) {
        let operation = "drop column family \(family.name) in \(path)"
        let handle = try liveHandle(for: operation)
        let familyHandle = try self.handle(of: family, for: operation)
        try RocksDBError.call(operation) { rocksdb_drop_column_family(handle, familyHandle, $0) }
        families[family.name] = nil
        family.release()
    }

    /// Drops the column family called `name`, if there is one.
    public func dropColumnFamily(named name: String) throws(RocksDBError) {
        guard let family = families[name] else { return }
        try dropColumnFamily(family)
    }
}
