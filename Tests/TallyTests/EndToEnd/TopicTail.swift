import Foundation
import Kafka

/// Follows topics from their beginning on a background thread while a test runs, keeping every
/// message: the mock broker drops a partition's oldest data past 5 MiB, so a long test must read
/// its output as it is written rather than at the end.
final class TopicTail: @unchecked Sendable {
    struct Record {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: String
        var value: String
        var headers: [String: String]
    }

    private let lock = NSLock()
    private var records: [Record] = []
    private var errors: [String] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    /// Starts following `topics` on `bootstrap`.
    init(_ topics: [String], bootstrap: String) throws {
        let consumer = try Consumer(config: ["bootstrap.servers": bootstrap, "group.id": "tail-\(UUID())"])
        var assignment: [TopicPartitionOffset] = []
        for t in topics {
            for p in try consumer.partitions(of: t) { assignment.append(TopicPartitionOffset(t, p, .beginning)) }
        }
        try consumer.assign(assignment)
        Thread.detachNewThread { [self] in
            defer { try? consumer.close(); done.signal() }
            while !lock.withLock({ stopping }) {
                guard let batch = try? consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100)) else { continue }
                var got: [Record] = []
                var bad: [String] = []
                for m in batch {
                    if let e = m.error { bad.append("\(m.topic)[\(m.partition)]: \(e)"); continue }
                    var headers: [String: String] = [:]
                    for h in m.headers() { headers[h.name] = String(decoding: h.value, as: UTF8.self) }
                    got.append(Record(
                        topic: m.topic, partition: m.partition, offset: m.offset,
                        key: m.key.map { String(decoding: $0, as: UTF8.self) } ?? "",
                        value: String(decoding: m.payload, as: UTF8.self), headers: headers))
                }
                batch.release()
                lock.withLock {
                    records += got
                    errors += bad
                }
            }
        }
    }

    /// Everything read so far from `topic`.
    func records(of topic: String) -> [Record] { lock.withLock { records.filter { $0.topic == topic } } }

    /// Consumer errors seen (offsets out of range mean data was dropped before it was read).
    var consumerErrors: [String] { lock.withLock { errors } }

    /// Waits until `condition` holds for the records of `topic`, up to `timeout` seconds.
    func wait(for topic: String, timeout: Double, _ condition: ([Record]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(records(of: topic)) { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return condition(records(of: topic))
    }

    /// Stops the thread and closes its consumer.
    func stop() {
        lock.withLock { stopping = true }
        done.wait()
    }
}
