import CRdKafka

/// Owns one `rd_kafka_topic_partition_list_t` and converts it to and from Swift values.
final class TopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// An empty list with room for `capacity` entries.
    init(capacity: Int = 1) {
        pointer = rd_kafka_topic_partition_list_new(Int32(max(capacity, 1)))
    }

    /// Takes ownership of a list librdkafka allocated for us.
    init(owning pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
    }

    convenience init(_ offsets: [TopicPartitionOffset]) {
        self.init(capacity: offsets.count)
        for entry in offsets { add(entry.topic, entry.partition, entry.offset.rawValue) }
    }

    convenience init(_ partitions: [TopicPartition]) {
        self.init(partitions.map { TopicPartitionOffset($0, .invalid) })
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(_ topic: String, _ partition: Int32, _ offset: Int64) {
        let element = rd_kafka_topic_partition_list_add(pointer, topic, partition)!
        element.pointee.offset = offset
    }

    /// The entries as Swift values (offsets included).
    var offsets: [TopicPartitionOffset] { Self.offsets(of: pointer) }

    /// The first per-partition error, if any entry carries one.
    func firstError(_ operation: String) -> KafkaError? {
        for i in 0..<Int(pointer.pointee.cnt) {
            let element = pointer.pointee.elems[i]
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let name = String(cString: element.topic)
                return KafkaError("\(operation) \(name)[\(element.partition)]", element.err)
            }
        }
        return nil
    }

    /// Reads a list we do not own (e.g. the one a rebalance callback receives).
    static func offsets(
        of list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> [TopicPartitionOffset] {
        (0..<Int(list.pointee.cnt)).map { i in
            let element = list.pointee.elems[i]
            return TopicPartitionOffset(
                String(cString: element.topic), element.partition, KafkaOffset(element.offset))
        }
    }
}
