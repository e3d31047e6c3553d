/// Why a JSON text was rejected, and where.
public struct JSONFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of malformed JSON the reader tells apart.
    public enum Reason: String, Sendable {
        case unexpectedEnd = "unexpected end of input"
        case unexpectedByte = "unexpected character"
        case invalidNumber = "invalid number"
        case numberOutOfRange = "number out of range"
        case invalidEscape = "invalid escape sequence"
        case invalidUnicodeEscape = "invalid \\u escape"
        case loneSurrogate = "unpaired UTF-16 surrogate in \\u escape"
        case controlCharacter = "unescaped control character in string"
        case invalidUTF8 = "invalid UTF-8"
        case tooDeep = "nested deeper than 512 levels"
        case trailingData = "data after the JSON value"
    }

    /// What was wrong.
    public var reason: Reason
    /// Byte offset where it was noticed.
    public var offset: Int

    /// Makes a failure at `offset`.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason.rawValue) at byte \(offset)" }
}
