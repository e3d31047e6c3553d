/// The value found at one field path of an event. Strings are byte ranges into the event or the
/// scanner's scratch area, valid until the next scan.
public struct FieldValue: Sendable {
    /// What kind of JSON value the field held.
    public enum Kind: UInt8, Sendable {
        case missing, null, bool, number, string, object, array
    }

    /// The kind.
    public var kind: Kind = .missing
    /// The number, for `.number`; 1 or 0 for `.bool`.
    public var number: Double = 0
    /// Start of the string bytes, for `.string`.
    public var stringStart: Int32 = 0
    /// Length of the string bytes, for `.string`.
    public var stringCount: Int32 = 0
    /// Whether the string bytes are in the scratch area (escapes decoded) rather than the event.
    public var inScratch: Bool = false

    /// True for a missing field or JSON null.
    @inline(__always) public var isAbsent: Bool { kind == .missing || kind == .null }
}
