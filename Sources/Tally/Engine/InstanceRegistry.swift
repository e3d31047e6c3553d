import Kafka
import Synchronization

/// Group mode: which instance owns which partitions, and where its HTTP API is. Each instance
/// publishes a small record to `<group>-instances` at every checkpoint (and a last one when it
/// stops); a thread reads the topic, so that every instance knows the others (the mock broker
/// does not list a group's members). A record is the text `v1 <time ms> <http> <topic>=<p>,<p>;…`
/// under the instance's id; an instance not heard from for `staleAfter` ms is taken as gone.
final class InstanceRegistry: @unchecked Sendable {
    // Safe to share: `peers` is behind its mutex; the rest is set once, before `start`.
    struct Entry: Sendable, Equatable {
        var http: String
        var partitions: [String: [Int32]]
        var seen: Int64
    }

    let topic: String
    let id: String
    let http: String
    let staleAfter: Int64
    private let consumer: Consumer
    private let peers = Mutex<[String: Entry]>([:])
    private let stopping = Atomic<Bool>(false)
    private let done = ThreadCondition()
    private var running = false

    init(topic: String, http: String, staleAfter: Int64, consumerConfig: [String: String]) throws {
        self.topic = topic
        self.http = http
        self.staleAfter = staleAfter
        id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        consumer = try Consumer(config: consumerConfig)
        let partitions = try consumer.partitions(of: topic)
        try consumer.assign(partitions.map { TopicPartitionOffset(topic, $0, .beginning) })
    }

    /// Starts reading the topic on a thread of its own.
    func start() {
        running = true
        OSThread.start(name: "tally-registry") { [self] in
            while !stopping.load(ordering: .relaxed) {
                if let batch = try? consumer.poll(maxMessages: 1_000, timeout: .milliseconds(200)) {
                    for m in batch where m.error == nil && !m.isPartitionEOF {
                        guard let key = m.key else { continue }
                        read(id: String(decoding: key, as: UTF8.self), String(decoding: m.payload, as: UTF8.self))
                    }
                    batch.release()
                }
            }
            done.lock()
            running = false
            done.broadcast()
            done.unlock()
        }
    }

    /// Stops the reading thread.
    func stop() {
        stopping.store(true, ordering: .relaxed)
        done.lock()
        while running { done.wait() }
        done.unlock()
    }

    /// The record that says this instance owns `partitions` (or, with `gone`, that it left).
    func record(partitions: [String: [Int32]], gone: Bool = false, now: Int64) -> (key: [UInt8], value: [UInt8]) {
        let owned = partitions.keys.sorted().map { t in "\(t)=" + partitions[t]!.map(String.init).joined(separator: ",") }
        return (Array(id.utf8), Array("v1 \(now) \(gone ? "-" : http) \(owned.joined(separator: ";"))".utf8))
    }

    func read(id: String, _ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let seen = Int64(parts[1]) else { return }
        guard parts[2] != "-" else {
            peers.withLock { $0[id] = nil }
            return
        }
        var partitions: [String: [Int32]] = [:]
        for owned in parts[3].split(separator: ";") {
            let pair = owned.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            partitions[String(pair[0])] = pair[1].split(separator: ",").compactMap { Int32($0) }
        }
        peers.withLock { $0[id] = Entry(http: String(parts[2]), partitions: partitions, seen: seen) }
    }

    /// The instances heard from lately (this one included), by HTTP address.
    func live(now: Int64) -> [Entry] {
        peers.withLock { all in all.values.filter { now - $0.seen <= staleAfter }.sorted { $0.http < $1.http } }
    }
}
