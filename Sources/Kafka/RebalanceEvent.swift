/// A change of a consumer's group assignment, returned from `Consumer.poll` as data, so the
/// engine reacts in its own loop rather than inside a librdkafka callback.
public enum RebalanceEvent: Sendable, Equatable {
    /// These partitions were added to the assignment (all of them, with the eager protocol).
    case assigned([TopicPartition])
    /// These partitions were taken away (all of them, with the eager protocol).
    case revoked([TopicPartition])
    /// The group protocol reported an error; the assignment was cleared.
    case failed(String)
}
