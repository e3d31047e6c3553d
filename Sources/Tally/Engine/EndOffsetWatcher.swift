import Dispatch
import Kafka
import Synchronization

/// Group mode with `repartition`: the end offsets of the source partitions, read on a thread of
/// its own every `interval` ms. A router's word that a source partition is idle holds only while
/// that partition has nothing beyond what the router read: a router that died (its instance
/// killed) cannot say that new events came, and a shard that went on leaving the partition out
/// would count them as late once another instance routes them.
final class EndOffsetWatcher: Sendable {
    private let consumer: Consumer
    private let partitions: [TopicPartition]
    private let interval: Int64
    private let ends = Mutex<[TopicPartition: (end: Int64, at: Int64)]>([:])
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(consumer: Consumer, partitions: [TopicPartition], interval: Int64 = 100) {
        self.consumer = consumer
        self.partitions = partitions
        self.interval = interval
    }

    /// The end offset of `partition` (the offset after its last record) read within the last
    /// second, nil when none is that recent.
    func end(_ partition: TopicPartition, now: Int64) -> Int64? {
        ends.withLock { e in e[partition].flatMap { now - $0.at <= 1_000 ? $0.end : nil } }
    }

    func start() {
        OSThread.start(name: "tally-ends") { [self] in
            defer { finished.signal() }
            while !stopping.load(ordering: .relaxed) {
                for tp in partitions where !stopping.load(ordering: .relaxed) {
                    let asked = Clock.now()
                    guard let w = try? consumer.queryWatermarks(topic: tp.topic, partition: tp.partition, timeout: .seconds(1)) else { continue }
                    ends.withLock { $0[tp] = (w.high, asked) }
                }
                OSThread.sleep(milliseconds: Int(interval))
            }
        }
    }

    /// Stops the thread and waits for it (at most one query, a second).
    func stop() {
        stopping.store(true, ordering: .relaxed)
        finished.wait()
    }
}
