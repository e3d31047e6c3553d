import CRdKafka

/// Owns the consumer's `rd_kafka_queue_t`; holding the client keeps the queue destroyed first.
///
/// Safe to share (`@unchecked Sendable`): immutable, and librdkafka queues are thread-safe.
final class ConsumerQueue: @unchecked Sendable {
    let handle: OpaquePointer
    private let client: KafkaClient

    init(client: KafkaClient) throws {
        guard let handle = rd_kafka_queue_get_consumer(client.handle) else {
            throw KafkaError("create consumer", "no consumer queue (is group.id set?)")
        }
        self.handle = handle
        self.client = client
    }

    deinit { rd_kafka_queue_destroy(handle) }
}
