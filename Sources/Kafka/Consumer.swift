import CRdKafka

/// A high-level Kafka consumer in a group, polled in batches from the caller's own loop.
///
/// Two ways to get partitions: `assign` (explicit, with start offsets; no group rebalancing),
/// or `subscribe` (the group coordinator spreads partitions; changes come back from `poll` as
/// `RebalanceEvent`s, and `setStartOffsets` says where newly assigned partitions begin).
///
/// Restart after SIGKILL (measured against the mock broker, librdkafka 2.0.2): a new member
/// subscribing to the same group gets no partitions until the dead member's session expires, so
/// the wait is `session.timeout.ms` (45 s by default; ~6 s with `session.timeout.ms=6000`).
/// The mock broker does not implement static membership: with `group.instance.id` the new
/// process still waits the full session timeout. With explicit `assign` the wait is zero.
/// So: one instance owning all partitions should `assign`; a group should lower
/// `session.timeout.ms` (and `heartbeat.interval.ms` below a third of it).
///
/// Safe to share (`@unchecked Sendable`): librdkafka's consumer is thread-safe; `poll` and the
/// topic-name cache it uses are serialised by `pollLock`; the recorder locks its own state.
public final class Consumer: @unchecked Sendable {
    /// Settings Tally uses unless overridden: manual commits, a large prefetch (librdkafka
    /// otherwise stalls at 100k queued messages), and a start at the earliest offset.
    public static let defaultConfig: [String: String] = [
        "group.id": "tally",
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "queued.min.messages": "1000000",
        "queued.max.messages.kbytes": "1000000",
        "enable.partition.eof": "false",
    ]

    let client: KafkaClient
    private let queue: ConsumerQueue
    let recorder = RebalanceRecorder()
    private let pollLock = Lock()
    private let names = TopicNameCache()
    private var closed = false

    /// Connects with `defaultConfig` overlaid by `config` (librdkafka property names).
    public init(config: [String: String]) throws {
        let conf = try KafkaConfig.make(
            Self.defaultConfig.merging(config) { $1 }, for: "create consumer")
        recorder.install(on: conf)
        client = try KafkaClient(
            RD_KAFKA_CONSUMER, conf: conf, callbackContext: recorder, operation: "create consumer")
        // Serve everything (errors, rebalances) from the consumer queue that `poll` reads.
        try KafkaError.check(rd_kafka_poll_set_consumer(client.handle), "create consumer")
        queue = try ConsumerQueue(client: client)
    }

    deinit { try? close() }

    /// Waits up to `timeout` for messages and returns at most `maxMessages`, with the group
    /// assignment changes that happened meanwhile, each placed between the messages (see
    /// `MessageBatch.rebalances`). Two threads polling at once are serialised.
    public func poll(maxMessages: Int, timeout: Duration) throws -> MessageBatch {
        let capacity = max(maxMessages, 1)
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
            .allocate(capacity: capacity)
        messages.initialize(repeating: nil, count: capacity)
        return try pollLock.withLock {
            recorder.setPollArray(UnsafeMutableBufferPointer(start: messages, count: capacity))
            let n = rd_kafka_consume_batch_queue(
                queue.handle, timeout.milliseconds, messages, capacity)
            recorder.setPollArray(nil)
            if n < 0 {
                messages.deallocate()
                throw KafkaError("poll", rd_kafka_last_error())
            }
            return MessageBatch(
                messages: messages, count: n, rebalances: recorder.takeEvents(), names: names)
        }
    }

    /// Leaves the group (revoking the assignment) and stops fetching; later calls fail.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try KafkaError.check(rd_kafka_consumer_close(client.handle), "close consumer")
    }
}
