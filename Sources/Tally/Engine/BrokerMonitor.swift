import Dispatch
import Kafka
import Logging
import Metrics
import Synchronization

/// Watches whether the broker answers: a thread of its own asks, every `interval`, for the
/// offsets of one source partition. A probe that fails, or that has had no answer for
/// `patience`, means an outage (librdkafka alone notices a hung broker only after
/// `socket.timeout.ms`, 60 s, and its own query timeout does not cut a request stuck on a hung
/// connection). The outage shows in `/health` (`degraded`), the log and `/metrics`
/// (`tally_broker_up`, `tally_broker_errors_total`). Processing is left alone: the consumer and
/// producer retry by themselves and the engine goes on when the broker is back.
final class BrokerMonitor: Sendable {
    struct Outage: Sendable, Equatable {
        var since: Int64
        var error: String
    }

    struct State {
        var probeStarted: Int64?
        var failure: Outage?
        var reported: Outage?
        var stopping = false
        /// The cluster id seen first, and a different one seen since (not yet taken).
        var clusterID: String?
        var newClusterID: String?
    }

    private let consumer: Consumer
    private let topic: String
    private let partition: Int32
    private let interval: Int64
    private let patience: Int64
    private let logger: Logger
    private let state = Mutex(State())
    private let up = Gauge(label: "tally_broker_up")
    private let errors = Counter(label: "tally_broker_errors_total")
    private let finished = DispatchSemaphore(value: 0)

    init(consumer: Consumer, topic: String, partition: Int32, interval: Int64, patience: Int64 = 3000, logger: Logger) {
        self.consumer = consumer
        self.topic = topic
        self.partition = partition
        self.interval = interval
        self.patience = patience
        self.logger = logger
        up.record(1)
    }

    /// The current outage: the last probe failed, or the one in flight has waited too long.
    private func outage(now: Int64) -> Outage? {
        state.withLock { s in
            if let started = s.probeStarted, now - started >= patience {
                return Outage(since: s.failure?.since ?? started, error: "no answer for \((now - started) / 1000) s")
            }
            return s.failure
        }
    }

    /// Logs and publishes a change of outage state, and returns the current outage; the
    /// engine's loop calls it every turn, `/health` on each request (so both agree).
    @discardableResult
    func report(now: Int64) -> Outage? {
        let current = outage(now: now)
        let previous = state.withLock { s -> Outage? in
            defer { s.reported = current }
            return s.reported
        }
        if let current, previous == nil {
            up.record(0)
            logger.warning("broker unreachable: \(current.error); processing waits for it, results stay queued")
        } else if current == nil, let previous {
            up.record(1)
            logger.notice("broker reachable again after \((now - previous.since) / 1000) s")
        }
        return current
    }

    /// A cluster id different from the first one seen, once (then it becomes the one expected).
    func takeClusterChange() -> (old: String, new: String)? {
        state.withLock { s in
            guard let new = s.newClusterID, let old = s.clusterID else { return nil }
            s.clusterID = new
            s.newClusterID = nil
            return (old, new)
        }
    }

    func start() {
        OSThread.start(name: "tally-probe") { [self] in
            defer { finished.signal() }
            while !state.withLock({ $0.stopping }) {
                probe()
                let next = Clock.now() + interval
                while Clock.now() < next && !state.withLock({ $0.stopping }) { OSThread.sleep(milliseconds: 50) }
            }
        }
    }

    /// Stops the thread and waits for it (at most one probe, a few seconds).
    func stop() {
        state.withLock { $0.stopping = true }
        finished.wait()
    }

    private func probe() {
        let started = Clock.now()
        state.withLock { $0.probeStarted = started }
        do {
            let w = try consumer.queryWatermarks(topic: topic, partition: partition, timeout: .milliseconds(patience))
            logger.trace("broker probe: \(topic)[\(partition)] offsets \(w.low)..<\(w.high)")
            // librdkafka updates its cluster id from metadata answers only, which it may not ask
            // for again for minutes after a reconnect: a broker replaced on the same address
            // (a new cluster, its logs started anew) would go unnoticed. Ask each time.
            _ = try? consumer.partitions(of: topic, timeout: .milliseconds(patience))
            let id = consumer.clusterID()
            state.withLock { s in
                s.probeStarted = nil
                s.failure = nil
                if let id {
                    if s.clusterID == nil { s.clusterID = id } else if id != s.clusterID { s.newClusterID = id }
                }
            }
        } catch {
            errors.increment()
            state.withLock { s in
                s.probeStarted = nil
                s.failure = Outage(since: s.failure?.since ?? started, error: "\(error)")
            }
        }
    }
}
