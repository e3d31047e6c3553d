import RocksDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tally's state on disk: one RocksDB database, a column family per definition (`q_<name>`) with
/// its slice accumulators and retained closed results, and `_meta` with, per definition, the
/// next offset of every source partition, the per-partition watermark times, how far windows have
/// closed, the outcome counters and the fingerprint. A checkpoint writes all of it in one
/// synced WriteBatch, so state and offsets always move together.
public final class StateStore {
    let db: Database
    let meta: ColumnFamily
    var families: [String: ColumnFamily] = [:]
    /// The folder.
    public let path: String
    /// Whether spilled parts are on their way to disk (reads wait for them), and failed reads.
    let spillParts = SpillParts()

    /// Opens (creating when missing) the state under `path` for `definitions`. A definition whose
    /// stored fingerprint differs is refused unless its name is in `reset`, which discards its state.
    /// With a `memoryBudget` (the window state's, see `WindowOperator.memoryBudget`), RocksDB's
    /// memtables are kept small beside it (a sixteenth of it each, between 4 and 32 MiB), and its
    /// block cache, which then also holds the files' index and filter blocks, twice that. (Without
    /// one, 8 MiB memtables instead of 32 lowered no peak once the checkpoint's own copies were
    /// gone, and raised the latency's p99 at 100k events/s two- to threefold.) With
    /// `deferCompactions`, RocksDB starts no compaction until `resumeCompactions()` (call it once
    /// the state is restored).
    public init(
        path: String, definitions: [Definition], reset: Set<String>, memoryBudget: Int? = nil, deferCompactions: Bool = false
    ) throws(StateError) {
        self.path = path
        try Self.makeFolder(path)
        let names = ["_meta"] + definitions.map { "q_\($0.name)" }
        var options = Database.Options()
        options.autoCompactions = !deferCompactions
        if let budget = memoryBudget {
            options.writeBufferSize = min(32 << 20, max(4 << 20, budget / 16))
            options.totalWriteBufferSize = 4 * options.writeBufferSize
            options.boundedBlockCache = options.writeBufferSize * 2
        }
        do {
            db = try Database(path: path, columnFamilies: names, options: options)
        } catch {
            throw StateError("cannot open the state in \(path): \(error.message). If the folder is damaged, move it away (Tally then rebuilds state from the earliest offsets still in Kafka) or run with another --state folder.")
        }
        meta = db.columnFamily(named: "_meta")!
        for d in definitions {
            let stored = try metaText("fp/\(d.name)")
            let current = Fingerprint.of(d)
            if reset.contains(d.name) {
                try discard(d.name)
            } else if let stored, stored != current {
                throw StateError("definition \(d.name) changed incompatibly since its state was written:\n  stored:  \(stored)\n  now:     \(current)\nRun with --reset-state \(d.name) to discard its state and recompute it from the earliest offsets in Kafka, or restore the old definition.")
            }
            families[d.name] = db.columnFamily(named: "q_\(d.name)")!
            try wrap("write fingerprint") { () throws(RocksDBError) in
                try db.put(meta, Array("fp/\(d.name)".utf8), Array(current.utf8), sync: true)
            }
        }
    }

    /// Closes the database. With `flushing` (a clean stop), first writes the memtables to table
    /// files so that the next start has no log to replay; never after a failed write (RocksDB
    /// then refuses further writes, and some builds abort on them).
    public func close(flushing: Bool = false) {
        if flushing { try? db.flush() }
        db.close()
    }

    /// Refuses a write that would leave less than `StateStore.reserve` free on the state volume:
    /// RocksDB meeting a full disk mid-write stops accepting writes (and some builds abort), so
    /// the engine stops cleanly first, with the way out.
    func ensureSpace(for bytes: Int) throws(StateError) {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return }
        let free = Int(fs.f_bavail) * Int(fs.f_frsize)
        guard free < Self.reserve + 2 * bytes else { return }
        throw StateError("state \(path): No space left on device: \(free / 1024) KiB free, a checkpoint needs about \((Self.reserve + 2 * bytes) / 1024) KiB. \(Self.fullVolumeWayOut)")
    }

    /// What to do about a full state volume.
    static let fullVolumeWayOut = "Free space on that volume (or move the folder to a larger one) and start again: Tally resumes from its last checkpoint"

    /// Space kept free on the state volume for RocksDB's own files (logs, flushes, manifests).
    static let reserve = 1 << 20

    static func makeFolder(_ path: String) throws(StateError) {
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw StateError("state folder \(path) is a file; pass --state a folder")
            }
            guard access(path, W_OK) == 0 else {
                throw StateError("state folder \(path) is not writable; fix its permissions or pass another --state")
            }
            return
        }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if stat(prefix, &st) != 0 && mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw StateError("cannot create state folder \(path): \(String(cString: strerror(errno))); pass another --state")
            }
            prefix += "/"
        }
    }

    func wrap<T>(_ what: String, _ body: () throws(RocksDBError) -> T) throws(StateError) -> T {
        do { return try body() } catch {
            var hint = ""
            if error.message.firstRange(of: "No space left") != nil {
                hint = ". " + Self.fullVolumeWayOut
            } else if error.message.firstRange(of: "Corruption") != nil {
                hint = ". The folder is damaged: move it away (Tally then recomputes from the earliest offsets still in Kafka) or run with --reset-state for the definitions concerned"
            }
            throw StateError("state \(path): \(what): \(error.message)\(hint)")
        }
    }

    /// Drops a definition's state: its column family and its `_meta` entries.
    func discard(_ name: String) throws(StateError) {
        try wrap("reset \(name)") { () throws(RocksDBError) in
            if db.columnFamily(named: "q_\(name)") != nil { try db.dropColumnFamily(named: "q_\(name)") }
            // Its shards (group mode): column families `q_<name>#<partition>` and their entries.
            for cf in db.columnFamilyNames where cf.hasPrefix("q_\(name)#") { try db.dropColumnFamily(named: cf) }
            for p in ["offset/\(name)#", "wm/\(name)#", "closed/\(name)#", "spillseq/\(name)#", "size/\(name)#", "clog/\(name)#"] {
                try deletePrefix(p)
            }
            _ = try db.createColumnFamily(named: "q_\(name)")
            for p in ["offset/\(name)/", "wm/\(name)/"] { try deletePrefix(p) }
            // Whole keys: a range from "closed/a" would also take "closed/ab".
            for k in ["closed/\(name)", "stats/\(name)", "fp/\(name)", "spillseq/\(name)", "size/\(name)"] {
                try db.delete(meta, Array(k.utf8), sync: true)
            }
        }
    }

    func metaText(_ key: String) throws(StateError) -> String? {
        try wrap("read \(key)") { () throws(RocksDBError) in
            try db.get(meta, Array(key.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Everything stored about one definition.
    public struct Restored {
        /// Next offset per (topic, partition).
        public var offsets: [String: [Int32: Int64]] = [:]
        /// Largest event time seen per partition.
        public var watermarks: [Int32: Int64] = [:]
        /// Start of the last closed window.
        public var closedThrough: Int64?
        /// Outcome counters.
        public var stats = RunStats()
        /// Slice accumulators restored.
        public var slices = 0
        /// Slices with spilled parts (left in the store, read when needed).
        public var spilledSlices = 0
        /// The id of the checkpoint whose changelog marker this shard's state matches (group mode).
        public var changelogCheckpoint: UInt64?
        /// A shard fed by a repartition topic: what it knows of each source partition.
        public var routed: [Int32: RoutedSource] = [:]
    }

    /// The reader of `op`'s spilled parts, which the operator needs whenever it has any.
    public func spillStore(for op: WindowOperator) -> any SpillStore {
        StoredSpill(db: db, family: families[op.definition.name]!, name: op.definition.name, parts: spillParts, stride: op.layout.stride)
    }

    /// The reader of the spilled parts of `op`, the shard of source partition `shard` (group mode).
    public func spillStore(for op: WindowOperator, shard: Int32) throws(StateError) -> any SpillStore {
        let name = Self.stateName(op.definition.name, shard)
        return StoredSpill(db: db, family: try family(op.definition.name, shard: shard), name: name, parts: spillParts, stride: op.layout.stride)
    }

    /// The name a shard's state goes by in `_meta` keys: the definition's name, or
    /// `<name>#<partition>` for the shard of one source partition (group mode).
    public static func stateName(_ definition: String, _ shard: Int32?) -> String {
        shard.map { "\(definition)#\($0)" } ?? definition
    }

    /// The column family of a shard's slices and spilled parts: the definition's own, or one per
    /// shard in group mode (`q_<name>#<partition>`, created when first needed), so that a shard
    /// can be dropped, or rebuilt from its changelog, on its own.
    func family(_ definition: String, shard: Int32?) throws(StateError) -> ColumnFamily {
        guard let shard else { return families[definition]! }
        let cf = "q_\(Self.stateName(definition, shard))"
        if let f = db.columnFamily(named: cf) { return f }
        return try wrap("create \(cf)") { () throws(RocksDBError) in try db.createColumnFamily(named: cf) }
    }

    /// Drops a shard's stored state (group mode): its column family and `_meta` entries.
    public func dropShard(_ definition: String, shard: Int32) throws(StateError) {
        let name = Self.stateName(definition, shard)
        try wrap("drop shard \(name)") { () throws(RocksDBError) in
            if db.columnFamily(named: "q_\(name)") != nil { try db.dropColumnFamily(named: "q_\(name)") }
            for p in ["offset/\(name)/", "wm/\(name)/"] { try deletePrefix(p) }
            for k in Self.shardKeys(name) { try db.delete(meta, Array(k.utf8), sync: true) }
        }
    }

    /// A definition's stored outcome counters.
    public func stats(_ definition: String) throws(StateError) -> RunStats {
        let key = "stats/\(definition)"
        return try wrap("read \(key)") { () throws(RocksDBError) in
            try db.get(meta, Array(key.utf8)).flatMap { RunStats(encoded: $0) } ?? RunStats()
        }
    }

    /// The id of the changelog checkpoint the stored state of a shard matches (group mode), nil
    /// when it has none.
    public func shardCheckpoint(_ definition: String, shard: Int32) throws(StateError) -> UInt64? {
        let key = "clog/\(Self.stateName(definition, shard))"
        return try wrap("read \(key)") { () throws(RocksDBError) in
            try db.get(meta, Array(key.utf8)).flatMap(StateKeys.int).map { UInt64(bitPattern: $0) }
        }
    }

    /// Replaces a shard's stored state with what its changelog holds (group mode): `entries` in
    /// its column family, and the marker's offset, watermark, closing position and spill number.
    public func replaceShard(
        _ definition: String, source: String, shard: Int32, entries: [(key: [UInt8], value: [UInt8])], marker: ChangelogMarker?
    ) throws(StateError) {
        try dropShard(definition, shard: shard)
        let family = try self.family(definition, shard: shard)
        let name = Self.stateName(definition, shard)
        let batch = WriteBatch()
        try wrap("rebuild shard \(name)") { () throws(RocksDBError) in
            for e in entries { try batch.put(family, e.key, e.value) }
            if let m = marker {
                if m.nextOffset >= 0 { try batch.put(meta, Array("offset/\(name)/\(source)/\(shard)".utf8), StateKeys.int(m.nextOffset)) }
                if let w = m.watermark { try batch.put(meta, Array("wm/\(name)/\(shard)".utf8), StateKeys.int(w)) }
                if let c = m.closedThrough { try batch.put(meta, Array("closed/\(name)".utf8), StateKeys.int(c)) }
                try batch.put(meta, Array("spillseq/\(name)".utf8), StateKeys.int(m.spillSequence))
                try batch.put(meta, Array("clog/\(name)".utf8), StateKeys.int(Int64(bitPattern: m.checkpoint)))
            }
            try db.write(batch, sync: true)
        }
    }

    /// The whole-key `_meta` entries of one shard's state.
    static func shardKeys(_ name: String) -> [String] {
        ["closed/\(name)", "spillseq/\(name)", "size/\(name)", "clog/\(name)"]
    }

    func deletePrefix(_ prefix: String) throws(RocksDBError) {
        let from = Array(prefix.utf8)
        var to = from
        to[to.count - 1] += 1
        try db.deleteRange(meta, from: from, to: to, sync: true)
    }

    /// The first failed read of spilled parts: windows read since are incomplete, so the engine
    /// stops instead of sending them.
    public func spillFailure() -> String? { spillParts.firstFailure() }

    /// The slices of a family with spilled parts: one seek per slice.
    func spilledSlices(_ family: ColumnFamily) throws -> [Int64] {
        var out: [Int64] = []
        let it = try db.iterator(family, prefix: [StateKeys.spillPrefix])
        while it.isValid {
            guard let slice = it.withKey({ StateKeys.parseSpill($0)?.slice }) else {
                throw StateError("a spilled part's key is damaged")
            }
            out.append(slice)
            if slice == .max { break }
            it.seek(to: StateKeys.spillPrefix(slice: slice + 1))
        }
        try it.checkStatus()
        return out
    }

    /// Lets RocksDB compact again after an open with `deferCompactions`.
    public func resumeCompactions() throws(StateError) {
        try wrap("resume compactions") { () throws(RocksDBError) in try db.resumeAutoCompactions() }
    }

    /// Reads a definition's state (or, with `shard`, the state of its shard of that source
    /// partition), putting its accumulators back into `op`.
    public func restore(_ op: WindowOperator, shard: Int32? = nil) throws(StateError) -> Restored {
        let definition = op.definition.name
        let name = Self.stateName(definition, shard)
        var r = Restored()
        let family = try self.family(definition, shard: shard)
        do {
            // RocksDB is read on another thread, chunk by chunk, while this one rebuilds the tables.
            let width = op.layout.stride * 8
            if let size = try db.get(meta, Array("size/\(name)".utf8)), size.count == 24 {
                let n = (0..<3).map { i in Int(StateKeys.int(Array(size[(i * 8)..<(i * 8 + 8)])) ?? 0) }
                if n.allSatisfy({ $0 >= 0 && $0 < 1 << 28 }) { op.reserve(accumulators: n[0], keys: n[1], keyBytes: n[2]) }
            }
            let reader = SliceReader(db: db, family: family, name: name, width: width)
            defer { reader.finish() }
            var stored: [WindowOperator.StoredSlice] = []
            while let chunk = try reader.next() {
                chunk.bytes.withUnsafeBytes { raw in
                    stored.removeAll(keepingCapacity: true)
                    for (start, count) in chunk.keys {
                        let (key, slice) = StateKeys.parseSlice(UnsafeRawBufferPointer(rebasing: raw[start..<(start + count)]))
                        stored.append(.init(key: key, slice: slice, values: UnsafeRawBufferPointer(rebasing: raw[(start + count)..<(start + count + width)])))
                    }
                    stored.withUnsafeBufferPointer { op.restore($0) }
                }
                r.slices += chunk.keys.count
            }
            try db.forEach(in: meta, from: Array("offset/\(name)/".utf8), to: Array("offset/\(name)0".utf8)) { k, v in
                // offset/<name>/<topic>/<partition>
                let parts = String(decoding: k, as: UTF8.self).split(separator: "/")
                if parts.count == 4, let p = Int32(parts[3]), let o = StateKeys.int(Array(v)) {
                    r.offsets[String(parts[2]), default: [:]][p] = o
                }
            }
            try db.forEach(in: meta, from: Array("wm/\(name)/".utf8), to: Array("wm/\(name)0".utf8)) { k, v in
                let parts = String(decoding: k, as: UTF8.self).split(separator: "/")
                if parts.count == 3, let p = Int32(parts[2]), let t = StateKeys.int(Array(v)) { r.watermarks[p] = t }
            }
            if let c = try db.get(meta, Array("closed/\(name)".utf8)) { r.closedThrough = StateKeys.int(c) }
            if let s = try db.get(meta, Array("stats/\(definition)".utf8)) { r.stats = RunStats(encoded: s) ?? RunStats() }
            if let c = try db.get(meta, Array("clog/\(name)".utf8)), let id = StateKeys.int(c) { r.changelogCheckpoint = UInt64(bitPattern: id) }
            if let v = try db.get(family, StateKeys.routedKey) {
                guard let routed = StateKeys.parseRouted(v) else { throw StateError("the applied source offsets of \(name) are damaged (\(v.count) bytes)") }
                r.routed = routed
            }
            op.restore(closedThrough: r.closedThrough)
            let spilled = try spilledSlices(family)
            let sequence = try db.get(meta, Array("spillseq/\(name)".utf8)).flatMap(StateKeys.int) ?? 0
            op.restore(spilledSlices: spilled, spillSequence: sequence)
            r.spilledSlices = spilled.count
        } catch let e as StateError {
            throw e
        } catch {
            throw StateError("cannot read the state of \(name) in \(path): \(error). Run with --reset-state \(name) to rebuild it.")
        }
        return r
    }

    /// What one definition (or one shard of it) contributes to a checkpoint.
    public struct Part {
        /// The operator (its changes are drained into the batch).
        public var op: WindowOperator
        /// The source partition whose shard `op` is (group mode); nil for a definition's only operator.
        public var shard: Int32?
        /// Final results emitted since the last checkpoint, retained for queries.
        public var closed: ClosedResultsBatch
        /// Closed results whose window started before this leave the store.
        public var expireBefore: Int64?
        /// Next offset per (topic, partition).
        public var offsets: [String: [Int32: Int64]]
        /// Outcome counters.
        public var stats: RunStats
        /// Whether the shard's changes also go to its changelog (group mode), as `Prepared.changelogs`.
        public var changelog = false
        /// The topic the shard reads: its source, or its repartition topic.
        public var topic: String
        /// A shard fed by a repartition topic: what it knows of each source partition, when that
        /// changed since the last checkpoint (nil for any other shard, or nothing changed).
        public var routed: [Int32: RoutedSource]?

        /// Makes one.
        public init(
            op: WindowOperator, shard: Int32? = nil, closed: ClosedResultsBatch, expireBefore: Int64?,
            offsets: [String: [Int32: Int64]], stats: RunStats, changelog: Bool = false, topic: String? = nil,
            routed: [Int32: RoutedSource]? = nil
        ) {
            self.topic = topic ?? op.definition.source
            self.routed = routed
            self.op = op
            self.shard = shard
            self.closed = closed
            self.expireBefore = expireBefore
            self.offsets = offsets
            self.stats = stats
            self.changelog = changelog
        }
    }

    /// One shard's changes in a checkpoint, as its changelog records (the marker last).
    public struct ShardChangelog: Sendable {
        /// The definition's name.
        public var definition: String
        /// The shard's source partition: the changelog partition the records go to.
        public var partition: Int32
        /// The checkpoint's id, in every record's header.
        public var checkpoint: UInt64
        /// The changes in order, then the marker.
        public var records: [ChangelogRecord]
    }

    /// A checkpoint gathered and not yet written: the entries only. Sorting them and building
    /// the RocksDB batch is left to `write`, which runs outside the engine's lock.
    public struct Prepared: @unchecked Sendable {  // handed to one writer thread, then dropped
        /// Per family, the slice entries, and in group mode each shard's closed-result buckets
        /// already merged with the stored ones (written in key order).
        var familyPuts: [(family: ColumnFamily, entries: EntryBuffer)] = []
        /// One instance: per definition family, the final results closed since the last
        /// checkpoint (merged with the stored buckets by `write`, off the engine's lock).
        var closedPuts: [(family: ColumnFamily, results: ClosedResultsBatch)] = []
        /// Offsets, watermarks, counters: a handful, written as they come.
        var metaPuts: [(key: [UInt8], value: [UInt8])] = []
        var deletes: [(family: ColumnFamily, key: [UInt8])] = []
        var ranges: [(family: ColumnFamily, from: [UInt8], to: [UInt8])] = []
        /// Whether it evicts accumulators: reads of spilled parts wait until it is written.
        var hasSpill = false
        /// The changes of the parts that have a changelog: to be produced, and acknowledged by
        /// the broker, before this checkpoint is written.
        public var changelogs: [ShardChangelog] = []
        /// The number of state entries it writes.
        public var count: Int {
            familyPuts.reduce(0) { $0 + $1.entries.count } + closedPuts.reduce(0) { $0 + $1.results.bucketCount } + metaPuts.count
                + deletes.count + ranges.count
        }
    }

    /// Writes one checkpoint: every part's changes, offsets, watermarks and counters, in one
    /// synced WriteBatch. Returns the number of state entries written.
    @discardableResult
    public func checkpoint(_ parts: [Part], at now: Int64) throws(StateError) -> Int {
        let prepared = try prepare(parts, at: now)
        try write(prepared)
        return prepared.count
    }

    /// Gathers one checkpoint from the parts (draining their operators' changes) without
    /// writing it, so that the caller can write it without holding its own lock.
    public func prepare(_ parts: [Part], at now: Int64) throws(StateError) -> Prepared {
        var prepared = Prepared()
        for part in parts {
            let definition = part.op.definition.name
            let name = Self.stateName(definition, part.shard)
            let family = try self.family(definition, shard: part.shard)
            let checkpointID = UInt64.random(in: 0...UInt64.max)  // never reused, even after a crash
            var records: [ChangelogRecord] = []
            let logged = part.changelog
            var entries = EntryBuffer()
            part.op.drainChanges(
                put: { key, slice, values in
                    entries.append(key: { StateKeys.appendSlice(key: key, start: slice, to: &$0) }, value: { StateKeys.appendDoubles(values, to: &$0) })
                    if logged { records.append(.put(key: StateKeys.slice(key: key, start: slice), value: Self.doubles(values))) }
                },
                delete: { key, slice in
                    let k = StateKeys.slice(key: key, start: slice)
                    prepared.deletes.append((family, k))
                    if logged { records.append(.delete(key: k)) }
                },
                spill: { key, slice, spillPart, values in
                    entries.append(key: { StateKeys.appendSpill(key: key, slice: slice, part: spillPart, to: &$0) }, value: { StateKeys.appendDoubles(values, to: &$0) })
                    prepared.hasSpill = true
                    if logged { records.append(.put(key: StateKeys.spill(key: key, slice: slice, part: spillPart), value: Self.doubles(values))) }
                },
                dropSpilled: { slice in
                    prepared.ranges.append((family, StateKeys.spillPrefix(slice: slice), StateKeys.spillPrefix(slice: slice + 1)))
                    if logged { records.append(.dropSpilled(slice: slice)) }
                })
            prepared.metaPuts.append((Array("spillseq/\(name)".utf8), StateKeys.int(part.op.spillSequence)))
            let size = part.op.residentSize
            prepared.metaPuts.append((Array("size/\(name)".utf8), [size.accumulators, size.keys, size.keyBytes].flatMap { StateKeys.int(Int64($0)) }))
            prepared.familyPuts.append((family, entries))
            // Retention first, as in the write (ranges, then puts).
            if let cutoff = part.expireBefore {
                prepared.ranges.append((family, [StateKeys.closedPrefix], StateKeys.closedBound(cutoff)))
                if logged { records.append(.expireClosed(before: cutoff)) }
            }
            if part.shard == nil {
                // One instance: the closed results are the definition's.
                if part.closed.count > 0 { prepared.closedPuts.append((family, part.closed)) }
            } else {
                // Group mode: a shard's closed results are its own, in its family and changelog,
                // so that they move with it.
                if part.closed.count > 0 {
                    // Whole buckets: a window's results may come in several checkpoints, and the
                    // changelog's last put of a bucket must be all of it. The previous checkpoint
                    // is written (the engine waits for it before preparing the next).
                    var closed = EntryBuffer()
                    try part.closed.forEachBucket { key, blob throws(StateError) in
                        let earlier = try wrap("read closed results") { () throws(RocksDBError) in try db.get(family, key) }
                        let whole = (earlier ?? []) + blob
                        closed.append(key: { $0 += key }, value: { $0 += whole })
                        if logged { records.append(.put(key: key, value: whole)) }
                    }
                    prepared.familyPuts.append((family, closed))
                }
            }
            if let routed = part.routed, !routed.isEmpty {
                let value = StateKeys.routed(routed)
                var e = EntryBuffer()
                e.append(key: { $0 += StateKeys.routedKey }, value: { $0 += value })
                prepared.familyPuts.append((family, e))
                if logged { records.append(.put(key: StateKeys.routedKey, value: value)) }
            }
            for (topic, partitions) in part.offsets {
                for (p, o) in partitions { prepared.metaPuts.append((Array("offset/\(name)/\(topic)/\(p)".utf8), StateKeys.int(o))) }
            }
            let times = part.op.watermarks.partitionTimes
            // A repartitioned shard's times are its lanes', kept with its source offsets (`routed`).
            for (p, t) in times where part.topic == part.op.definition.source && (part.shard == nil || part.shard == p) {
                prepared.metaPuts.append((Array("wm/\(name)/\(p)".utf8), StateKeys.int(t)))
            }
            if let c = part.op.closedThrough { prepared.metaPuts.append((Array("closed/\(name)".utf8), StateKeys.int(c))) }
            prepared.metaPuts.append((Array("stats/\(definition)".utf8), part.stats.encoded()))
            if logged, let shard = part.shard {
                let marker = ChangelogMarker(
                    checkpoint: checkpointID, nextOffset: part.offsets[part.topic]?[shard] ?? -1,
                    watermark: part.topic == part.op.definition.source ? times[shard] : nil, closedThrough: part.op.closedThrough, spillSequence: part.op.spillSequence)
                records.append(.marker(marker))
                prepared.changelogs.append(ShardChangelog(definition: definition, partition: shard, checkpoint: checkpointID, records: records))
                prepared.metaPuts.append((Array("clog/\(name)".utf8), StateKeys.int(Int64(bitPattern: checkpointID))))
            }
        }
        prepared.metaPuts.append((Array("checkpoint".utf8), StateKeys.int(now)))
        if prepared.hasSpill { spillParts.prepared() }
        return prepared
    }

    static func doubles(_ values: UnsafeBufferPointer<Double>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 8)
        StateKeys.appendDoubles(values, to: &out)
        return out
    }

    /// Writes a prepared checkpoint in one synced write.
    public func write(_ prepared: Prepared) throws(StateError) {
        // Entries go into the batch in key order per family: RocksDB's memtable inserts sorted
        // keys far faster than random ones (a checkpoint after a backlog holds ~100k entries).
        // Reads of spilled parts wait for this write: they are told when it ends, however it ends.
        var failure: String? = "not attempted"
        defer { if prepared.hasSpill { spillParts.written(failed: failure) } }
        let batch = WriteBatch()
        var bytes = 0
        do throws(RocksDBError) {
            for d in prepared.deletes { try batch.delete(d.family, d.key) }
            for r in prepared.ranges { try batch.deleteRange(r.family, from: r.from, to: r.to) }
            for (family, entries) in prepared.familyPuts {
                try entries.forEachSorted { key, value throws(RocksDBError) in
                    try batch.put(family, key, value)
                    bytes += key.count + value.count + 16
                }
            }
            for (family, results) in prepared.closedPuts {
                try results.forEachBucket { key, blob throws(RocksDBError) in
                    // A window's closed results may come in several checkpoints (shards that
                    // close it in different turns): a bucket written before keeps its entries.
                    if let earlier = try db.get(family, key) {
                        try batch.put(family, key, earlier + blob)
                    } else {
                        try batch.put(family, key, blob)
                    }
                    bytes += key.count + blob.count + 16
                }
            }
            for m in prepared.metaPuts {
                try batch.put(meta, m.key, m.value)
                bytes += m.key.count + m.value.count + 16
            }
        } catch {
            throw StateError("checkpoint: \(error.message)")
        }
        try ensureSpace(for: bytes)
        // Under the spill lock: a read of spilled parts meets each of this batch's parts either
        // in `spillParts` (before) or in RocksDB (after), never in both.
        do {
            try wrap("write checkpoint") { () throws(RocksDBError) in try db.write(batch, sync: true) }
            failure = nil
        } catch {
            failure = error.description
            throw error
        }
    }

    /// Time of the last checkpoint, ms.
    public func lastCheckpoint() -> Int64? {
        (try? db.get(meta, Array("checkpoint".utf8))).flatMap { $0.flatMap(StateKeys.int) }
    }

    /// Retained closed results of `key` for `name` (in group mode, those of one shard), for each
    /// window start in `starts` (point reads: the closed results are laid out by time, for cheap
    /// expiry).
    public func closedResults(
        _ name: String, shard: Int32? = nil, key: [UInt8], width: Int, starts: StrideThrough<Int64>
    ) -> [(start: Int64, values: [Double?])] {
        let family = shard.map { db.columnFamily(named: "q_\(Self.stateName(name, $0))") } ?? families[name]
        guard let family else { return [] }
        var out: [(Int64, [Double?])] = []
        let bucket = StateKeys.bucket(key)
        for start in starts {
            guard let blob = (try? db.get(family, StateKeys.closed(start: start, bucket: bucket))) ?? nil,
                let values = blob.withUnsafeBytes({ StateKeys.findClosed(key, in: $0, width: width) })
            else { continue }
            out.append((start, values))
        }
        return out
    }
}
