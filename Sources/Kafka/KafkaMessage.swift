import CRdKafka

/// One consumed message, viewed in place: `key`, `payload` and headers point into librdkafka's
/// buffers and are valid only while the `MessageBatch` it came from is alive and not released.
public struct KafkaMessage {
    /// The topic it came from.
    public let topic: String
    /// The partition it came from.
    public let partition: Int32
    /// Its offset in the partition.
    public let offset: Int64
    /// Its timestamp in epoch milliseconds (create or log-append time), nil when it has none.
    /// Read when asked (a call into librdkafka), not for every message.
    public var timestamp: Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0 ? nil : ts
    }
    /// The key, nil when the message has none.
    public let key: UnsafeRawBufferPointer?
    /// The value (empty for a null value or an error).
    public let payload: UnsafeRawBufferPointer
    /// Set when this entry reports a consumer error (e.g. `KafkaError.offsetOutOfRange`) rather
    /// than carrying data; never set for the end of a partition.
    public let error: KafkaError?
    /// This entry only says the consumer reached the end of the partition (needs
    /// `enable.partition.eof=true`); `offset` is then the next offset to arrive.
    public let isPartitionEOF: Bool

    private let message: UnsafeMutablePointer<rd_kafka_message_t>

    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let m = message.pointee
        self.message = message
        self.topic = topic
        partition = m.partition
        offset = m.offset
        key = m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) }
        payload = UnsafeRawBufferPointer(start: m.payload, count: m.payload.map { _ in m.len } ?? 0)
        isPartitionEOF = m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR || isPartitionEOF {
            error = nil
        } else {
            error = KafkaError(
                "consume \(topic)[\(m.partition)]",
                String(cString: rd_kafka_message_errstr(message)),
                code: Int(m.err.rawValue))
        }
    }

    /// The value of the first header called `name`, nil if absent (empty for a null value).
    public func header(_ name: String) -> UnsafeRawBufferPointer? {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR
        else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get(headers, 0, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR
        else { return nil }
        return UnsafeRawBufferPointer(start: value, count: value == nil ? 0 : size)
    }

    /// All headers in order, copied out (`value` empty for a null header value).
    public func headers() -> [(name: String, value: [UInt8])] {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR
        else { return [] }
        var result: [(name: String, value: [UInt8])] = []
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        var index = 0
        while rd_kafka_header_get_all(headers, index, &name, &value, &size)
            == RD_KAFKA_RESP_ERR_NO_ERROR
        {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            result.append((name.map { String(cString: $0) } ?? "", bytes))
            index += 1
        }
        return result
    }
}
