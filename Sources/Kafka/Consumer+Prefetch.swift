import CRdKafka

extension Consumer {
    /// The fetched messages no poll has taken yet, over all assigned partitions (librdkafka
    /// compares this same count with `queued.min.messages` to decide whether to fetch more).
    public var queuedMessages: Int { Int(rd_kafka_queue_length(queue.handle)) }

    /// Messages (and events) polled so far, over the consumer's life.
    public var polledMessages: Int { polled.load(ordering: .relaxed) }

    /// Sends each broker leading an assigned partition one small request (ListOffsets for the
    /// partitions' ends) and waits up to `timeout` for the answers. Its only purpose is the side
    /// effect: the broker's thread in librdkafka wakes up and decides again whether to fetch
    /// (librdkafka 2.0.2 otherwise looks at a queue that reached `queued.min.messages` again only
    /// after up to a second). Nothing happens without an assignment.
    public func wakeFetchers(timeout: Duration = .seconds(1)) throws {
        let assigned = try assignment()
        guard !assigned.isEmpty else { return }
        let list = TopicPartitionList(assigned.map { TopicPartitionOffset($0, .end) })
        try KafkaError.check(
            rd_kafka_offsets_for_times(client.handle, list.pointer, timeout.milliseconds),
            "wake the fetchers")
    }
}
