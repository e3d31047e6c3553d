import CRdKafka

extension Consumer {
    /// Commits `offsets` (each the next offset to read) for the group; with `async` the call
    /// returns at once and the outcome is not reported (fine for advisory commits).
    public func commit(_ offsets: [TopicPartitionOffset], async: Bool = false) throws {
        let list = TopicPartitionList(offsets)
        try KafkaError.check(
            rd_kafka_commit(client.handle, list.pointer, async ? 1 : 0), "commit offsets")
        if !async, let error = list.firstError("commit offsets") { throw error }
    }

    /// The group's committed offsets for `partitions` (`.invalid` where none was committed).
    public func committed(
        _ partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) throws -> [TopicPartitionOffset] {
        let list = TopicPartitionList(partitions)
        try KafkaError.check(
            rd_kafka_committed(client.handle, list.pointer, timeout.milliseconds),
            "read committed offsets")
        if let error = list.firstError("read committed offset") { throw error }
        return list.offsets
    }

    /// The earliest offset and the offset after the last message of a partition, from the
    /// broker.
    public func queryWatermarks(
        topic: String, partition: Int32, timeout: Duration = .seconds(10)
    ) throws -> (low: Int64, high: Int64) {
        try client.watermarks(topic: topic, partition: partition, timeout: timeout)
    }

    /// The id of the cluster the consumer talks to, from its latest metadata (nil if none came
    /// within `timeout`). A different id means another cluster: every log in it is new.
    public func clusterID(timeout: Duration = .zero) -> String? {
        client.clusterID(timeout: timeout)
    }

    /// The watermarks of a fetched partition as last reported by the broker, without a network
    /// round trip (for lag metrics); nil before the first fetch.
    public func cachedWatermarks(topic: String, partition: Int32) -> (low: Int64, high: Int64)? {
        client.cachedWatermarks(topic: topic, partition: partition)
    }

    /// The partition ids of `topic`, from broker metadata.
    public func partitions(of topic: String, timeout: Duration = .seconds(10)) throws -> [Int32] {
        try client.partitions(of: topic, timeout: timeout)
    }
}
