/// The one error type of the RocksDB module: what failed, and RocksDB's own words for it.
public struct RocksDBError: Error, CustomStringConvertible, Sendable {
    /// What Tally was doing when it failed ("open /var/tally", "write batch").
    public var operation: String
    /// RocksDB's message.
    public var message: String

    /// Makes an error for `operation` with RocksDB's `message`.
    public init(_ operation: String, _ message: String) {
        self.operation = operation
        self.message = message
    }

    /// "operation: message", as printed to users.
    public var description: String { "\(operation): \(message)" }
}
