import CRdKafka

/// Owns one `rd_kafka_topic_t`, and keeps its client alive while it exists.
///
/// Safe to share: topic handles are thread-safe in librdkafka and this class is immutable.
final class TopicHandle: @unchecked Sendable {
    let handle: OpaquePointer
    private let client: KafkaClient

    init(client: KafkaClient, topic: String) throws {
        guard let handle = rd_kafka_topic_new(client.handle, topic, nil) else {
            throw KafkaError("open topic \(topic)", rd_kafka_last_error())
        }
        self.handle = handle
        self.client = client
    }

    deinit { rd_kafka_topic_destroy(handle) }
}
