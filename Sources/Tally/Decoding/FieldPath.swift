/// A dotted path into nested objects of an event (`customer.id`), as written in a definition.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    /// The path as written.
    public let text: String
    /// Its segments, as UTF-8 bytes.
    public let segments: [[UInt8]]

    /// A path from its written form; nil when a segment is empty.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.text = text
        self.segments = parts.map { Array($0.utf8) }
    }

    public var description: String { text }
}
