/// Byte layout of Tally's RocksDB keys and values. Times are big-endian with the sign bit
/// flipped, so keys sort by time (also before 1970).
///
/// In a definition's column family:
/// - `0x01 | slice start | group key` → the slice accumulator, `stride` little-endian doubles
/// - `0x02 | window start | bucket` → the final values of a closed window's keys in one of 64
///   buckets (by a fixed hash of the key), as `[key length u32][key][values]…`: a window's
///   results are written in 64 puts however many keys it has, and a query reads one bucket
/// - `0x03 | slice start | key length u32 BE | group key | part u64 BE` → a part evicted over
///   the memory budget (see `WindowOperator+Spill.swift`), `stride` little-endian doubles; the
///   parts of one slice, and of one key in it, share a prefix
/// - `0x06` → a shard fed by a repartition topic: per source partition, the offset after the
///   last event it applied and the largest event time it knows of, as
///   `[partition i32][next offset i64][time i64, Int64.min for none]…` little-endian (`routed`)
/// In `_meta`: text keys (`offset/<definition>/<topic>/<partition>`, `size/<definition>` for a restore to
/// reserve room, …) → little-endian Int64 or text.
public enum StateKeys {
    static let slicePrefix: UInt8 = 0x01
    static let closedPrefix: UInt8 = 0x02
    static let spillPrefix: UInt8 = 0x03
    static let routedPrefix: UInt8 = 0x06
    /// The key of a repartitioned shard's applied source offsets.
    static let routedKey: [UInt8] = [routedPrefix]

    static let routedEntryCount = 20

    /// The value of `routedKey`, by source partition.
    static func routed(_ sources: [Int32: RoutedSource]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(sources.count * routedEntryCount)
        for (p, s) in sources.sorted(by: { $0.key < $1.key }) {
            withUnsafeBytes(of: p.littleEndian) { out += $0 }
            withUnsafeBytes(of: s.next.littleEndian) { out += $0 }
            withUnsafeBytes(of: (s.time ?? .min).littleEndian) { out += $0 }
        }
        return out
    }

    /// Reads a `routed` value; nil when it is not one.
    static func parseRouted(_ value: [UInt8]) -> [Int32: RoutedSource]? {
        guard value.count % routedEntryCount == 0 else { return nil }
        var out: [Int32: RoutedSource] = [:]
        value.withUnsafeBytes { b in
            for i in stride(from: 0, to: b.count, by: routedEntryCount) {
                let time = Int64(littleEndian: b.loadUnaligned(fromByteOffset: i + 12, as: Int64.self))
                out[Int32(littleEndian: b.loadUnaligned(fromByteOffset: i, as: Int32.self))] = RoutedSource(
                    next: Int64(littleEndian: b.loadUnaligned(fromByteOffset: i + 4, as: Int64.self)), time: time == .min ? nil : time)
            }
        }
        return out
    }

    /// Key of a spilled part.
    public static func spill(key: [UInt8], slice: Int64, part: Int64) -> [UInt8] {
        var out: [UInt8] = []
        appendSpill(key: key, slice: slice, part: part, to: &out)
        return out
    }

    static func appendSpill(key: [UInt8], slice: Int64, part: Int64, to out: inout [UInt8]) {
        appendSpillPrefix(slice: slice, key: key, to: &out)
        for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: part) >> (8 * UInt64(i)))) }
    }

    /// Prefix of every part of `slice`, or of `key`'s parts in it.
    static func spillPrefix(slice: Int64, key: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(21 + (key?.count ?? 0))
        appendSpillPrefix(slice: slice, key: key, to: &out)
        return out
    }

    static func appendSpillPrefix(slice: Int64, key: [UInt8]?, to out: inout [UInt8]) {
        out.append(spillPrefix)
        appendTime(slice, to: &out)
        if let key {
            for i in (0..<4).reversed() { out.append(UInt8(truncatingIfNeeded: UInt32(key.count) >> (8 * UInt32(i)))) }
            out += key
        }
    }

    /// (slice, group key bytes) of a spilled part's key; nil when it is not one.
    static func parseSpill(_ b: UnsafeRawBufferPointer) -> (slice: Int64, key: UnsafeRawBufferPointer)? {
        guard b.count >= 21, b[0] == spillPrefix else { return nil }
        var len = 0
        for i in 9..<13 { len = len << 8 | Int(b[i]) }
        guard b.count == 21 + len else { return nil }
        return (readTime(b, at: 1), UnsafeRawBufferPointer(rebasing: b[13..<(13 + len)]))
    }

    static func appendTime(_ t: Int64, to out: inout [UInt8]) {
        let u = UInt64(bitPattern: t) ^ (1 << 63)
        for i in (0..<8).reversed() { out.append(UInt8(truncatingIfNeeded: u >> (8 * UInt64(i)))) }
    }

    static func readTime(_ b: UnsafeRawBufferPointer, at offset: Int) -> Int64 {
        var u: UInt64 = 0
        for i in 0..<8 { u = u << 8 | UInt64(b[offset + i]) }
        return Int64(bitPattern: u ^ (1 << 63))
    }

    /// Key of a slice accumulator.
    public static func slice(key: [UInt8], start: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(9 + key.count)
        appendSlice(key: key, start: start, to: &out)
        return out
    }

    static func appendSlice(key: [UInt8], start: Int64, to out: inout [UInt8]) {
        out.append(slicePrefix)
        appendTime(start, to: &out)
        out += key
    }

    /// Buckets per closed window.
    public static let closedBuckets = 64

    /// The bucket of a group key: FNV-1a, fixed so that it is the same in every process.
    public static func bucket(_ key: [UInt8]) -> UInt8 { bucket(key[...]) }

    /// `bucket` of a key in place in a larger buffer.
    public static func bucket(_ key: ArraySlice<UInt8>) -> UInt8 {
        var h: UInt32 = 2_166_136_261
        for b in key { h = (h ^ UInt32(b)) &* 16_777_619 }
        return UInt8(h % UInt32(closedBuckets))
    }

    /// Key of one bucket of a closed window's results.
    public static func closed(start: Int64, bucket: UInt8) -> [UInt8] {
        var out: [UInt8] = [closedPrefix]
        appendTime(start, to: &out)
        out.append(bucket)
        return out
    }

    /// Lower bound of closed results starting at or after `start`.
    public static func closedBound(_ start: Int64) -> [UInt8] {
        var out: [UInt8] = [closedPrefix]
        appendTime(start, to: &out)
        return out
    }

    /// Appends the entry of result `i` of `batch` to a closed-results bucket: key length, key,
    /// values (NaN for null, as the batch has them).
    static func appendClosed(_ batch: ResultBatch, _ i: Int, to out: inout [UInt8]) {
        let key = batch.key(i)
        withUnsafeBytes(of: UInt32(key.count).littleEndian) { out += $0 }
        out += key
        for v in batch.values(i) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
    }

    /// The values of `key` in a closed-results bucket of `width` values per key.
    static func findClosed(_ key: [UInt8], in blob: UnsafeRawBufferPointer, width: Int) -> [Double?]? {
        var i = 0
        while i + 4 <= blob.count {
            let len = Int(UInt32(littleEndian: blob.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            let keyStart = i + 4, valuesStart = keyStart + len
            guard valuesStart + width * 8 <= blob.count else { return nil }
            if len == key.count && key.withUnsafeBytes({ memcmpRaw($0, blob, keyStart, len) }) {
                return decodeDoubles(UnsafeRawBufferPointer(rebasing: blob[valuesStart..<(valuesStart + width * 8)]))
                    .map { $0.isNaN ? nil : $0 }
            }
            i = valuesStart + width * 8
        }
        return nil
    }

    static func memcmpRaw(_ a: UnsafeRawBufferPointer, _ blob: UnsafeRawBufferPointer, _ offset: Int, _ n: Int) -> Bool {
        for k in 0..<n where a[k] != blob[offset + k] { return false }
        return true
    }

    /// (group key, time) of a slice key, the key a view into `b`.
    static func parseSlice(_ b: UnsafeRawBufferPointer) -> (key: UnsafeRawBufferPointer, time: Int64) {
        (UnsafeRawBufferPointer(rebasing: b[9...]), readTime(b, at: 1))
    }

    /// Appends doubles as little-endian bytes.
    static func appendDoubles(_ values: UnsafeBufferPointer<Double>, to out: inout [UInt8]) {
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
    }

    /// Little-endian bytes as doubles.
    public static func decodeDoubles(_ b: UnsafeRawBufferPointer) -> [Double] {
        (0..<(b.count / 8)).map { i in
            Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
        }
    }

    /// An Int64 as 8 little-endian bytes.
    public static func int(_ v: Int64) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    /// 8 little-endian bytes as an Int64.
    public static func int(_ b: [UInt8]) -> Int64? {
        guard b.count == 8 else { return nil }
        return b.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) }
    }
}

/// What a shard fed by a repartition topic knows of one source partition.
public struct RoutedSource: Equatable, Sendable {
    /// The offset after the last event of the source partition the shard applied (-1: none).
    public var next: Int64
    /// The largest event time of the source partition the shard knows of (events and ticks).
    public var time: Int64?

    /// Makes one.
    public init(next: Int64, time: Int64?) {
        self.next = next
        self.time = time
    }
}
