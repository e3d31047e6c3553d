import CRdKafka
import Synchronization

/// A high-level Kafka consumer in a group, polled in batches from the caller's own loop.
///
/// Two ways to get partitions: `assign` (explicit, with start offsets; no group rebalancing),
/// or `subscribe` (the group coordinator spreads partitions; changes come back from `poll` as
/// `RebalanceEvent`s, and `setStartOffsets` says where newly assigned partitions begin).
///
/// Restart after SIGKILL, measured against `tally broker` (librdkafka 2.0.2 mock) with a
/// 4-partition topic: a new process subscribing to the same group was assigned after ~89 s with
/// the default `session.timeout.ms` (45 s); ~11 s with 6000, ~7 s with 4000, ~6.5 s with 3500
/// (heartbeat 1 s): the dead member must expire, then the mock coordinator ends the rebalance
/// only when its session-derived timeout runs out, even once every live member has rejoined
/// (so a second live member joining also takes up to a session timeout).
/// `group.instance.id` changed nothing: the mock ignores static membership. Sessions of
/// 1-2 s never produced an assignment (the mock holds a first join for 3 s).
/// So: an instance that owns all partitions should `assign` explicitly (no wait at all);
/// a group should use `session.timeout.ms` around 6000 against the mock.
///
/// Safe to share (`@unchecked Sendable`): librdkafka's consumer is thread-safe; `poll` and the
/// topic-name cache it uses are serialised by `pollLock`; the recorder locks its own state.
public final class Consumer: @unchecked Sendable {
    /// Settings Tally uses unless overridden: manual commits, a large prefetch (librdkafka
    /// otherwise stalls at 100k queued messages), a start at the earliest offset, and fetches
    /// that wait at most 5 ms for data: the mock broker answers a waiting fetch only when its
    /// wait ends, even if data came meanwhile (librdkafka's 500 ms default put ~0.5 s between
    /// an event and its result); a real broker answers as soon as data comes, so there 5 ms
    /// only bounds the rate of empty fetches while idle.
    public static let defaultConfig: [String: String] = [
        "fetch.wait.max.ms": "5",
        "group.id": "tally",
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "queued.min.messages": "1000000",
        "queued.max.messages.kbytes": "1000000",
        "enable.partition.eof": "false",
    ]

    /// Slots a poll makes room for at least (see `poll`).
    static let minimumPollCapacity = 1024

    let client: KafkaClient
    let queue: ConsumerQueue
    let recorder = RebalanceRecorder()
    private let pollLock = Lock()
    private let names = TopicNameCache()
    let polled = Atomic<Int>(0)
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

    /// Returns at most `maxMessages`, as soon as there is at least one (waiting up to `timeout`
    /// for the first), with the group assignment changes that happened meanwhile, each placed
    /// between the messages (see `MessageBatch.rebalances`). Two threads polling at once are
    /// serialised. (librdkafka's batch call alone waits for the whole timeout unless the batch
    /// fills: tens of milliseconds of latency at moderate rates.)
    public func poll(maxMessages: Int, timeout: Duration) throws -> MessageBatch {
        // Room for what is queued (at least a small batch) rather than always `maxMessages`:
        // the array is nil-filled for the rebalance recorder, and 20,000 slots cost a 160 KB
        // fill on every poll, most of which return a few messages when the loop keeps up.
        let queued = Int(rd_kafka_queue_length(queue.handle))
        let capacity = min(max(maxMessages, 1), max(queued, Self.minimumPollCapacity))
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
            .allocate(capacity: capacity)
        messages.initialize(repeating: nil, count: capacity)
        return try pollLock.withLock {
            recorder.setPollArray(UnsafeMutableBufferPointer(start: messages, count: capacity))
            // What is queued already; if nothing, wait for one message, then take what came with it.
            var n = rd_kafka_consume_batch_queue(queue.handle, 0, messages, capacity)
            if n == 0, let first = rd_kafka_consume_queue(queue.handle, timeout.milliseconds) {
                messages[0] = first
                let more = capacity == 1 ? 0 : rd_kafka_consume_batch_queue(queue.handle, 0, messages + 1, capacity - 1)
                n = 1 + max(more, 0)  // an error there shows again on the next poll
            }
            recorder.setPollArray(nil)
            if n > 0 { polled.add(n, ordering: .relaxed) }
            if n < 0 {
                messages.deallocate()
                throw KafkaError("poll", rd_kafka_last_error())
            }
            return MessageBatch(
                messages: messages, count: n, rebalances: recorder.takeEvents(), names: names,
                client: client)
        }
    }

    /// Leaves the group (revoking the assignment) and stops fetching; later calls fail.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try KafkaError.check(rd_kafka_consumer_close(client.handle), "close consumer")
    }
}
