import Kafka

/// Reads shards' changelogs (group mode) with a consumer of its own that never joins the group:
/// the last record of a partition, to tell whether local state is current, and the whole
/// partition, to rebuild a shard.
final class ChangelogReader {
    let consumer: Consumer
    /// The first offset the last `restore` found: above 0 when older records are gone (compaction
    /// keeps what a rebuild needs; retention, such as the development broker's, does not).
    private(set) var firstOffset: Int64 = 0

    /// A reader with a consumer of `config` (see `Engine.readerConfig`).
    init(config: [String: String]) throws {
        var c = config
        c["enable.partition.eof"] = "true"
        consumer = try Consumer(config: c)
    }

    /// Whether the partition has records, and the checkpoint id of the last one when it is a
    /// marker (nil otherwise: an empty changelog, or one that ends in a checkpoint cut short).
    /// Read from the end offset the broker reports less one, up to the end of the log: a broker
    /// may report the start of its last batch + 1 (Tansu), below the real end.
    func tail(topic: String, partition: Int32) throws -> (records: Int64, lastMarker: UInt64?) {
        let (low, high) = try consumer.queryWatermarks(topic: topic, partition: partition)
        guard high > low else { return (high, nil) }
        var last: UInt64?
        try read(topic: topic, partition: partition, from: high - 1) { record, checkpoint in
            if case .marker = record { last = checkpoint } else { last = nil }
        }
        return (high, last)
    }

    /// The shard's state as of the last complete checkpoint in its changelog. `progress` is told
    /// the records read so far and the total, every few thousand records.
    func restore(topic: String, partition: Int32, progress: (Int64, Int64) -> Void) throws -> ChangelogRestore {
        let (low, high) = try consumer.queryWatermarks(topic: topic, partition: partition)
        firstOffset = low
        var restore = ChangelogRestore()
        guard high > low else { return restore }
        var read: Int64 = 0
        try self.read(topic: topic, partition: partition, from: low) { record, checkpoint in
            restore.apply(record, checkpoint: checkpoint)
            read += 1
            if read % 5_000 == 0 { progress(read, high - low) }
        }
        progress(read, max(read, high - low))
        return restore
    }

    /// Every record of `partition` from offset `from` up to the end of the log (the consumer's
    /// end-of-partition event, from the fetch answers: not the end offset a ListOffsets reports).
    func read(topic: String, partition: Int32, from: Int64, _ body: (ChangelogRecord, UInt64) -> Void) throws {
        try consumer.assign([TopicPartitionOffset(topic, partition, KafkaOffset(from))])
        defer { try? consumer.assign([]) }
        let deadline = Clock.now() + 60_000
        var next = from
        var atEnd = false
        while !atEnd {
            guard Clock.now() < deadline else {
                throw EngineError("reading the changelog \(topic)[\(partition)] stopped at offset \(next) for a minute")
            }
            let batch = try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100))
            defer { batch.release() }
            for m in batch where !atEnd {
                if let error = m.error, m.partition == partition { throw EngineError("reading the changelog \(topic)[\(partition)]: \(error)") }
                // Messages of an earlier read (another partition) may still be queued.
                guard m.error == nil, m.partition == partition, m.topic == topic, m.offset >= next else { continue }
                if m.isPartitionEOF {
                    atEnd = true
                    continue
                }
                let record: ChangelogRecord
                do {
                    let id = try ChangelogMessage.checkpoint(header: m.header(ChangelogMessage.checkpointHeader).map { Array($0) })
                    record = try ChangelogRecord.decode(key: m.key.map { Array($0) } ?? [], value: Array(m.payload), checkpoint: id)
                    body(record, id)
                } catch {
                    throw EngineError("the changelog \(topic)[\(partition)] has a record Tally did not write at offset \(m.offset): \(error)")
                }
                next = m.offset + 1
            }
        }
    }
}
