/// Kafka's default partitioner for keyed records (the Java client's, and Kafka Streams'):
/// murmur2 of the key bytes, made positive, modulo the partition count. Tally uses it for the
/// topics it writes itself, so that a record keyed by a group key lands where any Kafka client
/// would put it. (librdkafka's own default is `consistent_random`, a CRC32: the partition of a
/// record some other producer wrote is read from the record, never recomputed.)
public enum Murmur2 {
    /// The 32-bit murmur2 hash of `bytes`, as Kafka computes it (seed 0x9747b28c).
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let m: UInt32 = 0x5bd1_e995
        let n = bytes.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: n)
        var i = 0
        while i + 4 <= n {
            var k = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
            i += 4
        }
        let rest = n - i
        if rest > 0 {
            if rest == 3 { h ^= UInt32(bytes[i + 2]) << 16 }
            if rest >= 2 { h ^= UInt32(bytes[i + 1]) << 8 }
            h ^= UInt32(bytes[i])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The 32-bit murmur2 hash of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Int32 {
        let array = Array(bytes)
        return array.withUnsafeBytes { hash($0) }
    }

    /// The partition, among `count`, of a record keyed by `key`.
    public static func partition(of key: some Sequence<UInt8>, count: Int32) -> Int32 {
        Array(key).withUnsafeBytes { partition($0, count: count) }
    }

    /// The partition, among `count`, of a record keyed by the bytes `key`.
    @inline(__always)
    public static func partition(_ key: UnsafeRawBufferPointer, count: Int32) -> Int32 {
        precondition(count > 0, "a topic has at least one partition")
        return (hash(key) & 0x7fff_ffff) % count
    }
}
