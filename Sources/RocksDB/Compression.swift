/// A block compression that RocksDB may or may not have been built with.
///
/// The C API cannot ask which libraries the build links, so `Database` asks RocksDB itself: it opens
/// with each preferred compression in turn and takes the first that RocksDB does not refuse as
/// "not linked with the binary" (it checks before touching any file). Debian's librocksdb 7.8.3 links
/// snappy, zlib, bz2, lz4 and zstd, so there the first preference is taken.
public enum Compression: String, Sendable, CaseIterable {
    /// No compression; always supported.
    case none
    /// Snappy.
    case snappy
    /// LZ4: fast, the usual choice for hot state.
    case lz4
    /// Zstandard: smaller files, more CPU.
    case zstd

    /// RocksDB's number for this compression (`rocksdb_*_compression` in c.h).
    var rawCode: Int32 {
        switch self {
        case .none: 0
        case .snappy: 1
        case .lz4: 4
        case .zstd: 7
        }
    }
}
