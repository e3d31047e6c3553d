/// The one error type of the Kafka module: what failed, and librdkafka's own words for it.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// What Tally was doing when it failed ("create consumer", "produce to orders").
    public var operation: String
    /// librdkafka's message, or ours where librdkafka gave none.
    public var message: String
    /// librdkafka's error code (`rd_kafka_resp_err_t`), when the failure came with one;
    /// compare with the constants in `KafkaError+Codes.swift`.
    public var code: Int?

    /// Makes an error for `operation` with librdkafka's `message` and, when known, its `code`.
    public init(_ operation: String, _ message: String, code: Int? = nil) {
        self.operation = operation
        self.message = message
        self.code = code
    }

    /// `operation: message`, as shown to users.
    public var description: String { "\(operation): \(message)" }
}
