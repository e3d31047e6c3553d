import Kafka
import Logging
import Metrics
import Synchronization

/// Keeps librdkafka's prefetch small without starving the engine.
///
/// librdkafka stops fetching once the consumer queue holds `queued.min.messages`, and its broker
/// thread looks at the queue again only when something wakes it: network traffic, a request
/// to send, or its one-second timeout. (librdkafka 2.2 added `fetch.queue.backoff.ms` for this;
/// Debian bookworm ships 2.0.2.) With a small limit, then, the engine drains the queue and waits
/// up to a second for more: measured, 97k events/s instead of ~700k with a limit of 50,000. With a
/// large one, the queue grows toward the whole backlog (a few hundred bytes per message besides
/// its payload: 330–400 MB of RSS for a backlog of 1M events).
///
/// This thread looks every millisecond (every 10 while idle): once the queue may have reached the
/// limit (so fetching may have stopped) and is then a quarter taken, it sends the brokers a small request
/// (`Consumer.wakeFetchers`), whose arrival wakes the broker threads, which then fetch again.
final class PrefetchWaker: Sendable {
    /// When to wake the fetchers, from successive looks at the consumer (pure logic).
    struct Policy: Sendable {
        /// `queued.min.messages`: where librdkafka stops fetching.
        let limit: Int
        /// The queue may have held ⅞ of the limit since the last wake: fetching may have stopped.
        private(set) var armed = false

        init(limit: Int) { self.limit = max(limit, 4) }

        /// Whether to wake the fetchers now, given the queue's length and the messages polled
        /// since the previous look. Their sum bounds what the queue held in between: one poll
        /// takes up to 20,000 messages at once, so a queue that just reached the limit may
        /// already look empty.
        mutating func shouldWake(queued: Int, polled: Int) -> Bool {
            if queued + polled >= limit - limit / 8 { armed = true }
            guard armed, queued <= limit - limit / 4 else { return false }
            armed = false
            return true
        }
    }

    /// The engine's `queued.min.messages` unless set with `--kafka-property`: 10 ms of events at
    /// 1M events/s, a few MB of memory.
    static let defaultLimit = 10_000

    private let consumer: Consumer
    private let limit: Int
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let wakes = Counter(label: "tally_prefetch_wakes_total")

    init(consumer: Consumer, limit: Int, logger: Logger) {
        self.consumer = consumer
        self.limit = limit
        self.logger = logger
    }

    func start() {
        OSThread.start(name: "tally-prefetch") { [self] in
            var policy = Policy(limit: limit)
            var polled = consumer.polledMessages
            while !stopping.load(ordering: .relaxed) {
                let total = consumer.polledMessages
                let queued = consumer.queuedMessages
                if policy.shouldWake(queued: queued, polled: total - polled) {
                    wakes.increment()
                    do {
                        try consumer.wakeFetchers()
                    } catch {
                        logger.debug("waking the fetchers failed: \(error)")
                    }
                }
                // Idle (nothing queued, nothing polled since the last look): look less often. The
                // polled count still shows a fill the engine took meanwhile.
                OSThread.sleep(milliseconds: queued == 0 && total == polled ? 10 : 1)
                polled = total
            }
        }
    }

    func stop() { stopping.store(true, ordering: .relaxed) }
}
