import CRocksDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Database {
    /// Opens the database at `path`, creating it if missing, with `columnFamilies` (and `default`)
    /// created if missing.
    ///
    /// Families that exist on disk but were not asked for are opened too, because RocksDB refuses to
    /// open a database without all of its families; an old family never makes opening fail.
    /// A missing parent folder, a folder that cannot be written, a database already open, a garbled
    /// CURRENT, a damaged MANIFEST start or a truncated SST throws a `RocksDBError` with RocksDB's
    /// message. Garbled bytes inside an SST only show when that block is read (reads then throw), and
    /// RocksDB takes a garbled MANIFEST tail for a torn last record and opens without that edit.
    public convenience init(
        path: String, columnFamilies: [String] = [], options: Options = Options()
    ) throws(RocksDBError) {
        var names = ["default"]
        for name in try Self.existingColumnFamilies(path: path) + columnFamilies where !names.contains(name) {
            names.append(name)
        }
        let opened = try Self.openWithBestCompression(path: path, names: names, options: options)
        self.init(path: path, handle: opened.handle, options: opened.options, compression: opened.compression)
        for (name, family) in zip(names, opened.families) {
            families[name] = ColumnFamily(name: name, handle: family, owner: ObjectIdentifier(self))
        }
    }

    /// Opens with the first preferred compression RocksDB accepts, else with none.
    private static func openWithBestCompression(path: String, names: [String], options: Options)
        throws(RocksDBError)
        -> (handle: OpaquePointer, families: [OpaquePointer], options: OpenOptions, compression: Compression)
    {
        for compression in options.preferredCompressions where compression != .none {
            let openOptions = OpenOptions(options, compression: compression)
            do {
                let (handle, families) = try open(path: path, names: names, options: openOptions)
                return (handle, families, openOptions, compression)
            } catch where isUnsupported(compression: error) {
                continue  // this build lacks the library; RocksDB refuses before touching any file
            }
        }
        let openOptions = OpenOptions(options, compression: .none)
        let (handle, families) = try open(path: path, names: names, options: openOptions)
        return (handle, families, openOptions, .none)
    }

    /// The column families stored at `path`, or none when there is no database there yet.
    ///
    /// "No database yet" is decided by the absence of `CURRENT`, not by RocksDB's error, so that a
    /// damaged database throws instead of being taken for a new one.
    static func existingColumnFamilies(path: String) throws(RocksDBError) -> [String] {
        guard access(path + "/CURRENT", F_OK) == 0 else { return [] }
        let listing = OpenOptions(Options(), compression: .none)
        var count = 0
        let list = try RocksDBError.call("list column families of \(path)") {
            rocksdb_list_column_families(listing.pointer, path, &count, $0)
        }
        guard let list else { return [] }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0..<count).compactMap { list[$0].map { String(cString: $0) } }
    }

    /// Calls `rocksdb_open_column_families` with every family sharing `options`.
    private static func open(path: String, names: [String], options: OpenOptions) throws(RocksDBError)
        -> (OpaquePointer, [OpaquePointer])
    {
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let constNames = cNames.map { UnsafePointer($0) }
        let familyOptions = [OpaquePointer?](repeating: options.pointer, count: names.count)
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let database = try RocksDBError.call("open \(path)") {
            rocksdb_open_column_families(
                options.pointer, path, Int32(names.count), constNames, familyOptions, &handles, $0)
        }
        guard let database else { throw RocksDBError("open \(path)", "RocksDB returned no database") }
        return (database, handles.map { $0! })
    }

    /// Whether RocksDB refused to open because this build does not link `compression`'s library.
    private static func isUnsupported(compression error: RocksDBError) -> Bool {
        // RocksDB's ValidateOptions: "Compression type ZSTD is not linked with the binary."
        error.message.contains("is not linked with the binary")
    }
}
