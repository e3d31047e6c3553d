import Foundation
import Kafka

/// Reads a whole topic from the beginning with our Kafka consumer.
enum TopicReader {
    struct Record {
        var key: String
        var value: String
        var headers: [String: String]
        var partition: Int32 = -1
        var offset: Int64 = -1
        /// The value's exact bytes (`value` is their lossy UTF-8 reading).
        var payload: [UInt8] = []
        /// The key's exact bytes, nil for a null key.
        var keyBytes: [UInt8]? = nil
    }

    /// Every message of `topic` (all partitions), stopping after `quiet` seconds without new ones.
    static func read(_ topic: String, bootstrap: String, quiet: Double = 1.5, limit: Double = 30) throws -> [Record] {
        let consumer = try Consumer(config: ["bootstrap.servers": bootstrap, "group.id": "reader-\(UUID())"])
        defer { try? consumer.close() }
        let partitions = try consumer.partitions(of: topic)
        try consumer.assign(partitions.map { TopicPartitionOffset(topic, $0, .beginning) })
        var out: [Record] = []
        var lastNew = Date()
        let deadline = Date().addingTimeInterval(limit)
        while Date().timeIntervalSince(lastNew) < quiet && Date() < deadline {
            let batch = try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            for m in batch where m.error == nil {
                var headers: [String: String] = [:]
                for h in m.headers() { headers[h.name] = String(decoding: h.value, as: UTF8.self) }
                out.append(Record(
                    key: m.key.map { String(decoding: $0, as: UTF8.self) } ?? "",
                    value: String(decoding: m.payload, as: UTF8.self), headers: headers,
                    partition: m.partition, offset: m.offset, payload: Array(m.payload), keyBytes: m.key.map { Array($0) }))
            }
            if batch.count > 0 { lastNew = Date() }
            batch.release()
        }
        return out
    }
}
