/// A position in a partition: an absolute offset or one of librdkafka's logical offsets.
public struct KafkaOffset: Hashable, Sendable, CustomStringConvertible {
    /// librdkafka's representation: >= 0 absolute, negative logical.
    public var rawValue: Int64

    /// The absolute offset `value` (the offset of the next message to read).
    public init(_ value: Int64) { rawValue = value }

    /// The earliest offset still in the partition.
    public static let beginning = KafkaOffset(-2)
    /// The offset after the last message (only new messages).
    public static let end = KafkaOffset(-1)
    /// The group's committed offset, else `auto.offset.reset`.
    public static let stored = KafkaOffset(-1000)
    /// No offset (what `committed` returns for a partition without a commit).
    public static let invalid = KafkaOffset(-1001)

    /// Whether this is an absolute offset rather than a logical one.
    public var isAbsolute: Bool { rawValue >= 0 }

    /// The number, or the logical name (`beginning`, `end`, `stored`, `invalid`).
    public var description: String {
        switch rawValue {
        case -2: "beginning"
        case -1: "end"
        case -1000: "stored"
        case -1001: "invalid"
        default: String(rawValue)
        }
    }
}
