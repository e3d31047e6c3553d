/// The end of one checkpoint in a shard's changelog: what the shard had read and decided when
/// the checkpoint's records were written. A restore applies a checkpoint's records only once its
/// marker has been read (`ChangelogRestore`).
///
/// Encoded as a fixed 42-byte value (integers little-endian, as in `_meta`):
/// `version u8 (1) | flags u8 | checkpoint u64 | nextOffset i64 | watermark i64 |
/// closedThrough i64 | spillSequence i64`, where flags bit 0 says a watermark is present and bit 1
/// that closedThrough is; an absent one is written as 0. A later version may grow the value; this
/// one reads only version 1 at exactly its length.
public struct ChangelogMarker: Hashable, Sendable {
    /// The checkpoint this marker ends; the same id as its records' `tally.checkpoint` header.
    public var checkpoint: UInt64
    /// The next source offset of the shard's partition: reading resumes there after a restore.
    public var nextOffset: Int64
    /// The largest event time seen on the partition, nil before any event.
    public var watermark: Int64?
    /// Start of the last window that has closed (`WindowOperator.closedThrough`), nil when none has.
    public var closedThrough: Int64?
    /// Number of the shard's next eviction round (`WindowOperator.spillSequence`), so that new
    /// spilled parts never reuse a key.
    public var spillSequence: Int64

    /// Makes one.
    public init(
        checkpoint: UInt64, nextOffset: Int64, watermark: Int64?, closedThrough: Int64?,
        spillSequence: Int64
    ) {
        self.checkpoint = checkpoint
        self.nextOffset = nextOffset
        self.watermark = watermark
        self.closedThrough = closedThrough
        self.spillSequence = spillSequence
    }

    /// The version byte this code writes, and the only one it reads.
    public static let version: UInt8 = 1
    /// Bytes of an encoded version-1 marker.
    public static let encodedCount = 42

    static let hasWatermark: UInt8 = 1
    static let hasClosedThrough: UInt8 = 2

    /// The marker as a changelog value.
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.encodedCount)
        out.append(Self.version)
        out.append((watermark == nil ? 0 : Self.hasWatermark) | (closedThrough == nil ? 0 : Self.hasClosedThrough))
        for v in [
            checkpoint, UInt64(bitPattern: nextOffset), UInt64(bitPattern: watermark ?? 0),
            UInt64(bitPattern: closedThrough ?? 0), UInt64(bitPattern: spillSequence),
        ] {
            withUnsafeBytes(of: v.littleEndian) { out += $0 }
        }
        return out
    }

    /// Reads a marker value; throws on another version, another length, unknown flags, or a value
    /// present for a field its flag says is absent.
    public init(decoding value: [UInt8]) throws(StateError) {
        guard let version = value.first else {
            throw StateError("changelog marker: empty value, expected \(Self.encodedCount) bytes")
        }
        guard version == Self.version else {
            throw StateError(
                "changelog marker: unknown version \(version) (this Tally reads version \(Self.version)); "
                    + "was the changelog written by a newer Tally?")
        }
        guard value.count == Self.encodedCount else {
            throw StateError(
                "changelog marker: \(value.count) bytes, expected \(Self.encodedCount) for version \(version)")
        }
        let flags = value[1]
        guard flags & ~(Self.hasWatermark | Self.hasClosedThrough) == 0 else {
            throw StateError("changelog marker: unknown flags 0x\(String(flags, radix: 16))")
        }
        let fields = value.withUnsafeBytes { b in
            (0..<5).map { UInt64(littleEndian: b.loadUnaligned(fromByteOffset: 2 + 8 * $0, as: UInt64.self)) }
        }
        let watermarkPresent = flags & Self.hasWatermark != 0
        let closedPresent = flags & Self.hasClosedThrough != 0
        guard watermarkPresent || fields[2] == 0, closedPresent || fields[3] == 0 else {
            throw StateError("changelog marker: a field marked absent holds a value")
        }
        self.init(
            checkpoint: fields[0], nextOffset: Int64(bitPattern: fields[1]),
            watermark: watermarkPresent ? Int64(bitPattern: fields[2]) : nil,
            closedThrough: closedPresent ? Int64(bitPattern: fields[3]) : nil,
            spillSequence: Int64(bitPattern: fields[4]))
    }
}
