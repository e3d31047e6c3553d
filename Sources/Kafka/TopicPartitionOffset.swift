/// A partition together with an offset: where to start reading, or what to commit.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition number, from 0.
    public var partition: Int32
    /// The offset; for commits and start positions, the next offset to read.
    public var offset: KafkaOffset

    /// Pairs partition `partition` of `topic` with `offset`.
    public init(_ topic: String, _ partition: Int32, _ offset: KafkaOffset) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// Pairs `topicPartition` with `offset`.
    public init(_ topicPartition: TopicPartition, _ offset: KafkaOffset) {
        self.init(topicPartition.topic, topicPartition.partition, offset)
    }

    /// The partition without the offset.
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// `topic[partition]@offset`.
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}
