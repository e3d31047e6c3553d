import CRdKafka

/// Owns one `rd_kafka_t` (producer or consumer) and destroys it last.
///
/// Safe to share across threads: librdkafka handles are thread-safe, and this class
/// holds no mutable Swift state.
final class KafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    /// Kept alive as long as the handle, because C callbacks receive it as their opaque pointer.
    private let callbackContext: AnyObject?

    /// Creates the handle from `conf`, which librdkafka takes over on success.
    init(
        _ type: rd_kafka_type_t, conf: OpaquePointer, callbackContext: AnyObject? = nil,
        operation: String
    ) throws {
        var buffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &buffer, buffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(operation, KafkaConfig.string(buffer))
        }
        self.handle = handle
        self.callbackContext = callbackContext
    }

    deinit { rd_kafka_destroy(handle) }

    /// Partition ids of `topic` from a metadata request.
    func partitions(of topic: String, timeout: Duration) throws -> [Int32] {
        let operation = "read metadata of \(topic)"
        let rkt = try TopicHandle(client: self, topic: topic)
        var metadata: UnsafePointer<rd_kafka_metadata>?
        try KafkaError.check(
            rd_kafka_metadata(handle, 0, rkt.handle, &metadata, timeout.milliseconds), operation)
        defer { rd_kafka_metadata_destroy(metadata) }
        guard let md = metadata?.pointee else { throw KafkaError(operation, "no metadata") }
        for i in 0..<Int(md.topic_cnt) where String(cString: md.topics[i].topic) == topic {
            let entry = md.topics[i]
            try KafkaError.check(entry.err, operation)
            return (0..<Int(entry.partition_cnt)).map { entry.partitions[$0].id }.sorted()
        }
        throw KafkaError(operation, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
    }

    /// The low and high watermarks of one partition, asked of the broker.
    func watermarks(
        topic: String, partition: Int32, timeout: Duration
    ) throws -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        try KafkaError.check(
            rd_kafka_query_watermark_offsets(
                handle, topic, partition, &low, &high, timeout.milliseconds),
            "query watermarks of \(topic)[\(partition)]")
        return (low, high)
    }

    /// The cluster id from the latest metadata, waiting up to `timeout` when none is known yet.
    func clusterID(timeout: Duration) -> String? {
        guard let id = rd_kafka_clusterid(handle, timeout.milliseconds) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        return String(cString: id)
    }

    /// The low and high watermarks librdkafka last saw in fetch responses (no network call);
    /// nil until a fetch has reported them.
    func cachedWatermarks(topic: String, partition: Int32) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, topic, partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }
}

extension Duration {
    /// Whole milliseconds for librdkafka's `int timeout_ms` parameters, saturating.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
