/// librdkafka error codes that callers act on, so they need not import librdkafka.
extension KafkaError {
    /// The broker does not have the requested offset (log truncated or offset beyond the end).
    public static let offsetOutOfRange = 1
    /// The topic or partition does not exist.
    public static let unknownTopicOrPartition = 3
    /// An operation did not finish in time (e.g. a flush with messages still queued).
    public static let timedOut = -185
    /// A message could not be delivered before `message.timeout.ms`.
    public static let messageTimedOut = -192
    /// The partition does not exist in the client's view of the cluster.
    public static let unknownPartition = -190
    /// The topic does not exist in the client's view of the cluster.
    public static let unknownTopic = -188
    /// The consumer reached the end of a partition (only with `enable.partition.eof=true`).
    public static let partitionEOF = -191
    /// `auto.offset.reset=error` and the start offset was missing or out of range.
    public static let autoOffsetReset = -140
}
