extension Database {
    /// How a database is tuned; the same options apply to every column family.
    public struct Options: Sendable {
        /// Compressions to try, best first; the first one this RocksDB build supports is used, and
        /// `.none` when none is.
        public var preferredCompressions: [Compression]
        /// Memtable size per column family before it is flushed to an SST file.
        public var writeBufferSize: Int
        /// Cap on the memtables of all column families together (one family per definition adds up).
        public var totalWriteBufferSize: Int
        /// Background flush and compaction threads.
        public var backgroundThreads: Int
        /// Bits per key of the Bloom filter that lets point reads skip SST files; 0 for none.
        public var bloomBitsPerKey: Double
        /// Verify checksums and file sizes aggressively, refusing to open a damaged database rather
        /// than silently losing data.
        public var paranoidChecks: Bool
        /// Whether compactions start by themselves from the open on. Without, none runs until
        /// `resumeAutoCompactions()` (a restore that reads the whole state does not share the
        /// cores with one); flushes still run.
        public var autoCompactions: Bool
        /// Capacity of the block cache, which then also holds the table files' index and filter
        /// blocks, so that the database's memory stays bounded however much it stores (they
        /// otherwise stay in memory for each open file); nil: RocksDB's default cache, with index
        /// and filter blocks outside it.
        public var boundedBlockCache: Int?

        /// Options suited to Tally: lz4 (or zstd), 32 MiB memtables capped at 256 MiB in all,
        /// two background threads, a 10-bit Bloom filter and paranoid checks.
        public init(
            preferredCompressions: [Compression] = [.lz4, .zstd],
            writeBufferSize: Int = 32 << 20,
            totalWriteBufferSize: Int = 256 << 20,
            backgroundThreads: Int = 2,
            bloomBitsPerKey: Double = 10,
            paranoidChecks: Bool = true,
            autoCompactions: Bool = true,
            boundedBlockCache: Int? = nil
        ) {
            self.preferredCompressions = preferredCompressions
            self.writeBufferSize = writeBufferSize
            self.totalWriteBufferSize = totalWriteBufferSize
            self.backgroundThreads = backgroundThreads
            self.bloomBitsPerKey = bloomBitsPerKey
            self.paranoidChecks = paranoidChecks
            self.autoCompactions = autoCompactions
            self.boundedBlockCache = boundedBlockCache
        }
    }
}
