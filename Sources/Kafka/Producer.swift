import CRdKafka

/// A Kafka producer: asynchronous sends, delivery failures counted and reported by `flush`.
///
/// Safe to share across threads (`@unchecked Sendable`): librdkafka's producer is thread-safe,
/// the topic-handle cache is guarded by a lock, and the delivery tracker locks its own state.
public final class Producer: @unchecked Sendable {
    /// Settings Tally uses unless the caller overrides them: batching and compression that suit
    /// the mock broker's small retention (5 MiB, 100k batches per partition).
    public static let defaultConfig: [String: String] = [
        "linger.ms": "50",
        "batch.num.messages": "10000",
        "queue.buffering.max.messages": "1000000",
        "queue.buffering.max.kbytes": "1048576",
        "compression.codec": "zstd",
    ]

    let client: KafkaClient
    private let tracker = DeliveryTracker()
    private let topicsLock = Lock()
    private var topics: [String: TopicHandle] = [:]

    /// Connects with `defaultConfig` overlaid by `config` (librdkafka property names,
    /// e.g. `bootstrap.servers`).
    public init(config: [String: String]) throws {
        let conf = try KafkaConfig.make(
            Self.defaultConfig.merging(config) { $1 }, for: "create producer")
        tracker.install(on: conf)
        client = try KafkaClient(
            RD_KAFKA_PRODUCER, conf: conf, callbackContext: tracker, operation: "create producer")
    }

    // Messages still queued at deinit are dropped: call `flush` first.
    deinit {
        topicsLock.withLock { topics.removeAll() }
    }

    /// Messages not yet delivered (queued, in flight, or awaiting their delivery report).
    public var pendingCount: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// Serves delivery reports; call it regularly while producing. Returns reports served.
    @discardableResult
    public func poll(timeout: Duration = .zero) -> Int {
        Int(rd_kafka_poll(client.handle, timeout.milliseconds))
    }

    /// Waits up to `timeout` for every queued message to be delivered; throws if some remain,
    /// or if any delivery failed since the previous `flush` (then the failure count is reset).
    public func flush(timeout: Duration) throws {
        let err = rd_kafka_flush(client.handle, timeout.milliseconds)
        let (failures, first) = tracker.takeFailures()
        if failures > 0 {
            throw KafkaError(
                "flush", "\(failures) message(s) failed; first: \(first?.description ?? "?")",
                code: first?.code)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                "flush", "\(pendingCount) message(s) still undelivered", code: Int(err.rawValue))
        }
    }

    /// The number of partitions of `topic`, from broker metadata.
    public func partitionCount(topic: String, timeout: Duration = .seconds(10)) throws -> Int {
        try client.partitions(of: topic, timeout: timeout).count
    }

    func topicHandle(_ name: String) throws -> TopicHandle {
        try topicsLock.withLock {
            if let handle = topics[name] { return handle }
            let handle = try TopicHandle(client: client, topic: name)
            topics[name] = handle
            return handle
        }
    }
}
