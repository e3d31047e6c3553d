import Foundation
import Kafka
import Testing

/// librdkafka 2.0.2 stops fetching once `queued.min.messages` are queued and, once the queue
/// is drained, fetches again only when its broker thread wakes (up to a second later);
/// `Consumer.wakeFetchers` wakes it at once.
@Suite struct PrefetchWakeTests {
    static let limit = 500

    /// A consumer of a one-partition topic holding 50,000 small messages, with a prefetch of
    /// `limit` messages fetched at most 4 KB at a time.
    static func setUp() throws -> (TestCluster, Consumer) {
        let env = try TestCluster(partitions: 1)
        let producer = try env.producer()
        for i in 0..<50_000 {
            try producer.produce(topic: env.topic, partition: 0, key: nil, value: Array("event-\(i)".utf8))
        }
        try producer.flush(timeout: .seconds(30))
        let consumer = try env.consumer([
            "queued.min.messages": String(limit), "max.partition.fetch.bytes": "4096",
        ])
        try consumer.assign([TopicPartitionOffset(env.topic, 0, .beginning)])
        return (env, consumer)
    }

    /// Waits until the queue holds the limit (the fetcher stopped), takes every queued message,
    /// then returns how long the next message takes to come, waking the fetchers first if asked.
    static func refillDelay(_ consumer: Consumer, wake: Bool) throws -> Duration {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while consumer.queuedMessages < limit && clock.now < deadline { Thread.sleep(forTimeInterval: 0.001) }
        Thread.sleep(forTimeInterval: 0.02)
        while consumer.queuedMessages > 0 { _ = try consumer.poll(maxMessages: 100_000, timeout: .zero) }
        let start = clock.now
        if wake { try consumer.wakeFetchers() }
        while clock.now < deadline {
            if try consumer.poll(maxMessages: 1, timeout: .milliseconds(5)).count > 0 { break }
        }
        return clock.now - start
    }

    @Test func aWokenFetcherRefillsTheDrainedQueueAtOnce() throws {
        let (env, consumer) = try Self.setUp()
        _ = env
        var delays: [Duration] = []
        for _ in 0..<3 { delays.append(try Self.refillDelay(consumer, wake: true)) }
        #expect(delays.allSatisfy { $0 < .milliseconds(200) }, "\(delays)")
    }

    /// The control: left alone, the fetcher waits for its broker thread's timeout.
    @Test func anUnwokenFetcherWaitsAfterTheQueueFilled() throws {
        let (env, consumer) = try Self.setUp()
        _ = env
        var delays: [Duration] = []
        for _ in 0..<3 { delays.append(try Self.refillDelay(consumer, wake: false)) }
        #expect(delays.allSatisfy { $0 > .milliseconds(400) }, "\(delays)")
    }
}
