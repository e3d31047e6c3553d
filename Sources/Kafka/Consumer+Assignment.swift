import CRdKafka

extension Consumer {
    /// Replaces the assignment with `partitions`, each starting at its offset (`.stored` means
    /// the committed offset, else `auto.offset.reset`). No group rebalancing is involved.
    public func assign(_ partitions: [TopicPartitionOffset]) throws {
        let list = TopicPartitionList(partitions)
        try KafkaError.check(rd_kafka_assign(client.handle, list.pointer), "assign partitions")
    }

    /// Joins the group for `topics`; assignments arrive as `RebalanceEvent`s from `poll`.
    public func subscribe(_ topics: [String]) throws {
        let list = TopicPartitionList(capacity: topics.count)
        for topic in topics { list.add(topic, RD_KAFKA_PARTITION_UA, KafkaOffset.invalid.rawValue) }
        try KafkaError.check(
            rd_kafka_subscribe(client.handle, list.pointer),
            "subscribe to \(topics.joined(separator: ","))")
    }

    /// Where partitions assigned by the group from now on start reading (e.g. offsets kept in
    /// the engine's state store); partitions not listed start at their committed offset.
    public func setStartOffsets(_ offsets: [TopicPartitionOffset]) {
        recorder.setStartOffsets(offsets)
    }

    /// Handlers that run inside a rebalance, during `poll`, on the polling thread: `assigned`
    /// before new partitions are assigned, returning where they start (so no message is fetched
    /// from anywhere else first; its offsets win over `setStartOffsets`); `revoked` before
    /// partitions are taken away. The events still come with the poll's messages.
    public func setRebalanceHandlers(
        assigned: (@Sendable ([TopicPartition]) -> [TopicPartitionOffset])?, revoked: (@Sendable ([TopicPartition]) -> Void)?
    ) {
        recorder.setHandlers(assigned: assigned, revoked: revoked)
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [TopicPartition] {
        var pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(client.handle, &pointer), "read assignment")
        guard let pointer else { return [] }
        return TopicPartitionList(owning: pointer).offsets.map(\.topicPartition)
    }

    /// Moves assigned partitions to new positions; messages already fetched from before are
    /// dropped. Waits up to `timeout` for the fetcher to take the new positions.
    public func seek(_ positions: [TopicPartitionOffset], timeout: Duration = .seconds(5)) throws {
        let list = TopicPartitionList(positions)
        try KafkaError.check(
            rd_kafka_seek_partitions(client.handle, list.pointer, timeout.milliseconds), "seek")
        if let error = list.firstError("seek") { throw error }
    }
}
