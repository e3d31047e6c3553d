/// One changelog record as Kafka carries it: key, value (nil for a tombstone) and the checkpoint
/// id, sent as the one header `tally.checkpoint` (8 little-endian bytes).
public struct ChangelogMessage: Hashable, Sendable {
    /// Name of the header that holds the checkpoint id.
    public static let checkpointHeader = "tally.checkpoint"

    /// The Kafka key.
    public var key: [UInt8]
    /// The Kafka value; nil for a tombstone.
    public var value: [UInt8]?
    /// The checkpoint the record belongs to.
    public var checkpoint: UInt64

    /// Makes one.
    public init(key: [UInt8], value: [UInt8]?, checkpoint: UInt64) {
        self.key = key
        self.value = value
        self.checkpoint = checkpoint
    }

    /// Makes one from a consumed message's key, value and `tally.checkpoint` header value (nil
    /// when the message has no such header); throws when the header is missing or not 8 bytes.
    public init(key: [UInt8], value: [UInt8]?, checkpointHeader header: [UInt8]?) throws(StateError) {
        self.init(key: key, value: value, checkpoint: try Self.checkpoint(header: header))
    }

    /// The checkpoint id in a `tally.checkpoint` header value.
    public static func checkpoint(header: [UInt8]?) throws(StateError) -> UInt64 {
        guard let header else { throw missingCheckpoint }
        guard header.count == 8 else {
            throw StateError("changelog record: \(checkpointHeader) header of \(header.count) bytes, expected 8")
        }
        return header.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    static let missingCheckpoint = StateError(
        "changelog record without a \(checkpointHeader) header (not written by Tally?)")

    /// The headers to produce with the record.
    public var headers: [(String, [UInt8])] {
        [(Self.checkpointHeader, withUnsafeBytes(of: checkpoint.littleEndian) { Array($0) })]
    }
}
