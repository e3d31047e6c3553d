import Kafka
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The broker of a `tally bench`: librdkafka's mock cluster in this process, or a given one.
final class BenchBroker {
    // The consumer is declared first: stored properties go in order, so it leaves before the
    // embedded broker does (otherwise it logs the broker's disappearance).
    private let consumer: Consumer
    let bootstrap: String
    private let partitions: Int
    private let cluster: MockCluster?

    deinit { try? consumer.close() }

    init(bootstrap: String?, partitions: Int) throws {
        let cluster = bootstrap == nil ? try MockCluster() : nil
        self.cluster = cluster
        self.bootstrap = bootstrap ?? cluster!.bootstrapServers
        self.partitions = partitions
        consumer = try Consumer(config: [
            "bootstrap.servers": self.bootstrap, "group.id": "tally-bench-reader", "enable.partition.eof": "true",
        ])
    }

    /// Produces `file` into `topic`, keyed by customer, after creating it and the topics of
    /// `outputs` (embedded broker); checks that the topic was empty and keeps every event
    /// (the mock broker drops the oldest data past ~5 MiB per partition).
    func load(_ file: String, topic: String, outputs: [String]) throws {
        try prepare(topic, outputs: outputs)
        guard try ends(of: topic).values.allSatisfy({ $0 == 0 }) else {
            throw CLIError("topic \(topic) already holds events; give an empty one (--topic)")
        }
        let count = try JSONLinesLoader.load(path: file, topics: [topic], keyField: "customer_id", bootstrap: bootstrap)
        let kept = try retained(topic)
        guard kept == Int64(count) else {
            throw CLIError("the broker keeps \(kept) of the \(count) events produced to \(topic); the embedded mock broker keeps about 5 MiB per partition: use more --partitions or fewer --events")
        }
    }

    /// Creates `topic` and the topics of `outputs` (with their dead-letter topics) in the
    /// embedded broker; a given broker must have them already.
    func prepare(_ topic: String, outputs: [String]) throws {
        guard let cluster else { return }
        try cluster.createTopic(topic, partitions: partitions)
        for o in outputs {
            try cluster.createTopic(o, partitions: partitions)
            try cluster.createTopic(o + ".dlq", partitions: 1)
        }
    }

    /// Messages the broker holds in `topic` (the mock drops the oldest past ~5 MiB a partition),
    /// counted by reading them.
    func retained(_ topic: String) throws -> Int64 {
        var kept: Int64 = 0
        try forEachValue(topic, from: [:]) { _ in kept += 1 }
        return kept
    }

    /// The offset after the last message of each partition of `topic`, as ListOffsets answers
    /// (Tansu's may be lower: enough to tell an empty topic, and as a start that may re-read a
    /// few results of an earlier run, identical ones).
    func ends(of topic: String) throws -> [Int32: Int64] {
        var ends: [Int32: Int64] = [:]
        for p in try consumer.partitions(of: topic) { ends[p] = try consumer.queryWatermarks(topic: topic, partition: p).high }
        return ends
    }

    /// The values of `topic` from `start` (per partition) to its current end.
    func read(_ topic: String, from start: [Int32: Int64]) throws -> [[UInt8]] {
        var values: [[UInt8]] = []
        try forEachValue(topic, from: start) { values.append(Array($0)) }
        return values
    }

    /// Calls `body` with each value of `topic` from `start` (per partition; its beginning where
    /// absent) up to
    /// the end of each partition as the consumer's end-of-partition events tell it, not the end
    /// offsets a ListOffsets request answers: a real broker (Tansu) may answer the start of its
    /// last batch + 1, below the real end.
    func forEachValue(_ topic: String, from start: [Int32: Int64], _ body: (UnsafeRawBufferPointer) -> Void) throws {
        let partitions = try consumer.partitions(of: topic)
        try consumer.assign(partitions.map { TopicPartitionOffset(topic, $0, start[$0].map(KafkaOffset.init) ?? .beginning) })
        defer { try? consumer.assign([]) }
        var open = Set(partitions)
        let deadline = ContinuousClock.now + .seconds(120)
        while !open.isEmpty {
            guard ContinuousClock.now < deadline else { throw CLIError("timed out reading \(topic)") }
            let batch = try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            defer { batch.release() }
            for m in batch where m.error == nil && m.topic == topic && open.contains(m.partition) {
                if m.isPartitionEOF {
                    open.remove(m.partition)
                } else {
                    body(m.payload)
                }
            }
        }
    }
}

/// Result records by query, key and window, for comparing a live run with the offline one.
/// Values are compared to 1e-9 of their size: sums over partitions add in another order.
struct BenchResults {
    private var records: [String: (end: Double, values: [(String, Double?)])] = [:]

    /// The records of a JSON Lines file.
    init(file: String) throws {
        let fd = open(file, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(file)") }
        defer { close(fd) }
        try LineReader(fd: fd).forEachLine { line in if !line.isEmpty { try add(Array(line)) } }
    }

    /// The records of these message values.
    init(values: [[UInt8]]) throws {
        for v in values { try add(v) }
    }

    private mutating func add(_ bytes: [UInt8]) throws {
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes) } catch { throw CLIError("not a result record: \(String(decoding: bytes, as: UTF8.self))") }
        guard case .object(let values)? = doc["values"] else { throw CLIError("a result record without values") }
        let id = "\(doc["query"].map(Self.text) ?? "") \(doc["key"].map(Self.text) ?? "") \(doc["window"].map(Self.text) ?? "")"
        guard case .number(let end)? = doc["window"]?["end"] else { throw CLIError("a result record without window.end") }
        records[id] = (end, values.map { member in
            if case .number(let n) = member.value { return (member.key, n) }
            return (member.key, nil)
        })
    }

    static func text(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let n): "\(n)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "[" + a.map(text).joined(separator: ",") + "]"
        case .object(let m): "{" + m.map { "\"\($0.key)\":" + text($0.value) }.joined(separator: ",") + "}"
        }
    }

    /// Nil when these (live) records are exactly the records of `offline` whose windows had
    /// closed at `watermark` (end + `grace` ≤ watermark); otherwise what differs first.
    func difference(from offline: BenchResults, watermark: Double, grace: Double) -> String? {
        for (id, record) in records {
            guard let want = offline.records[id] else { return "unexpected record \(id)" }
            let same = record.values.count == want.values.count && zip(record.values, want.values).allSatisfy { a, b in
                guard a.0 == b.0 else { return false }
                switch (a.1, b.1) {
                case (nil, nil): return true
                case let (x?, y?): return abs(x - y) <= 1e-9 * max(1, abs(y))
                default: return false
                }
            }
            if !same { return "record \(id) differs" }
        }
        let closed = offline.records.values.filter { $0.end + grace <= watermark }.count
        if records.count < closed { return "\(records.count) records, expected \(closed) closed windows" }
        return nil
    }
}
