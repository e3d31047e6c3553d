import Kafka

/// A fresh mock cluster with one topic, and client configs pointing at it.
struct TestCluster {
    let cluster: MockCluster
    let topic: String

    init(partitions: Int = 4, topic: String = "events") throws {
        cluster = try MockCluster()
        self.topic = topic
        try cluster.createTopic(topic, partitions: partitions)
    }

    func producer(_ extra: [String: String] = [:]) throws -> Producer {
        try Producer(config: ["bootstrap.servers": cluster.bootstrapServers].merging(extra) { $1 })
    }

    func consumer(group: String = "test", _ extra: [String: String] = [:]) throws -> Consumer {
        try Consumer(
            config: ["bootstrap.servers": cluster.bootstrapServers, "group.id": group]
                .merging(extra) { $1 })
    }
}

extension ContinuousClock.Instant {
    /// Now plus `seconds`.
    static func after(_ seconds: Int) -> Self { .now + .seconds(seconds) }
}

/// Polls until `body` says stop (returns true) or the deadline passes.
func pollUntil(
    _ consumer: Consumer, deadline: ContinuousClock.Instant = .after(20),
    _ body: (MessageBatch) throws -> Bool
) throws {
    while ContinuousClock.now < deadline {
        let batch = try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
        if try body(batch) { return }
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as a String (test convenience).
    var text: String { String(decoding: self, as: UTF8.self) }
}
