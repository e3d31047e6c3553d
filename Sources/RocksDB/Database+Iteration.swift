extension Database {
    /// An unbounded iterator over `family`, not yet positioned; through `snapshot` when given.
    public func iterator(_ family: ColumnFamily, snapshot: Snapshot? = nil) throws(RocksDBError) -> Iterator {
        try makeIterator(family, snapshot: snapshot, configure: { _ in })
    }

    /// An iterator over the keys `k` of `family` with `from <= k < to` (no upper end when `to` is
    /// nil), positioned at the first of them. RocksDB stops at the bound itself, so it does not read
    /// past the range.
    /// `bulk`: a long scan (see `forEach`).
    public func iterator(
        _ family: ColumnFamily, from: [UInt8], to: [UInt8]?, snapshot: Snapshot? = nil, bulk: Bool = false
    ) throws(RocksDBError) -> Iterator {
        let iterator = try makeIterator(family, snapshot: snapshot) { options in
            if bulk { options.setBulkScan() }
            from.withUnsafeBytes { options.setLowerBound($0) }
            to?.withUnsafeBytes { options.setUpperBound($0) }
        }
        iterator.seek(to: from)
        return iterator
    }

    /// An iterator over the keys of `family` that start with `prefix`, positioned at the first;
    /// `bulk`: a long scan (see `forEach`).
    public func iterator(_ family: ColumnFamily, prefix: [UInt8], snapshot: Snapshot? = nil, bulk: Bool = false)
        throws(RocksDBError) -> Iterator
    {
        try iterator(family, from: prefix, to: Self.successor(ofPrefix: prefix), snapshot: snapshot, bulk: bulk)
    }

    /// Calls `body` with each key and value of `family` with `from <= k < to`, in key order, without
    /// copying (the buffers are valid only during the call); throws what `body` throws or the read
    /// error that ended the scan. `bulk`: a long scan, read ahead and kept out of the block cache.
    public func forEach(
        in family: ColumnFamily, from: [UInt8], to: [UInt8]?, snapshot: Snapshot? = nil, bulk: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let iterator = try iterator(family, from: from, to: to, snapshot: snapshot, bulk: bulk)
        while iterator.isValid {
            try iterator.withKey { key in try iterator.withValue { value in try body(key, value) } }
            iterator.next()
        }
        try iterator.checkStatus()
    }

    /// The smallest key greater than every key starting with `prefix`, or nil when there is none
    /// (empty prefix or all 0xFF): drop trailing 0xFF bytes and add one to the last remaining byte.
    static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bound = prefix
        while let last = bound.last, last == 0xFF { bound.removeLast() }
        guard !bound.isEmpty else { return nil }
        bound[bound.count - 1] += 1
        return bound
    }

    private func makeIterator(
        _ family: ColumnFamily, snapshot: Snapshot?, configure: (ReadOptions) -> Void
    ) throws(RocksDBError) -> Iterator {
        let operation = "iterate \(family.name) in \(path)"
        _ = try liveHandle(for: operation)
        let familyHandle = try handle(of: family, for: operation)
        let options = ReadOptions(snapshot: try snapshot?.livePointer(for: operation))
        configure(options)
        return try Iterator(database: self, family: familyHandle, readOptions: options, snapshot: snapshot)
    }
}
