/// The one error type of the Kafka module: what failed, and librdkafka's own words for it.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// What Tally was doing when it failed ("create consumer", "produce to orders").
    public var operation: String
    /// librdkafka's message, or ours where librdkafka gave none.
    public var message: String

    /// Makes an error for `operation` with librdkafka's `message`.
    public init(_ operation: String, _ message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}
