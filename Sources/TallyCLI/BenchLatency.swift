import Kafka
import Synchronization
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The latency step of `tally bench`: how long after an event is produced can it be read over
/// HTTP, while the engine carries a steady load.
struct BenchLatency {
    let bench: BenchRun
    let broker: BenchBroker
    /// Load, in events/s, produced beside the probes.
    let rate: Int
    let seconds: Double
    /// Which run this is (its own consumer group and state folder).
    let runNumber: Int

    static let query = "latency_agg"
    /// Each run reads a topic of its own: a fresh engine would otherwise first read the earlier
    /// runs' load, and the mock broker drops the oldest of it while it reads.
    static func topic(_ run: Int) -> String { "bench_latency_\(run)" }
    var topic: String { Self.topic(runNumber) }

    /// Latencies of the probes that were counted, in ms, how many never were (within 5 s), the
    /// load achieved, and how long each of the probe's key queries took from request to answer, in ms.
    func run() throws -> (latencies: [Double], missed: Int, load: Int, queries: [Double]) {
        let definitionFile = bench.folder + "/latency.json"
        try bench.writeFile(definitionFile, BenchWorkload.definition(
            name: Self.query, source: topic, window: BenchWorkload.tumblingWindow))
        let port = try bench.freePort()
        let engine = try bench.startEngine(
            definitionFile, broker: broker, group: "tally-bench-latency-\(getpid())-\(runNumber)",
            state: bench.folder + "/state-latency-\(runNumber)", port: port, log: "engine-latency-\(runNumber).log")
        defer {
            engine.terminate()
            engine.wait()
        }
        try bench.waitUntil(seconds: 60, "the latency engine to answer /health") {
            LocalHTTP.get(port: port, path: "/health")?.status == 200
        }
        let http = LocalHTTP(port: port)
        var queries: [Double] = []
        queries.reserveCapacity(200_000)
        // No pause between requests: each one waits for its answer, so the probe asks as often
        // as one kept-alive connection can (a client polling in a loop) without spinning a core.
        let probed = try probe(pauseMicros: 0) { key in
            let asked = ContinuousClock.now
            let r = http.get("/queries/\(Self.query)/keys/\(key)")
            queries.append(BenchRun.seconds(since: asked) * 1000)
            if let r, r.status == 200, Self.counted(r.body) { return true }
            return false
        }
        return (probed.latencies, probed.missed, probed.load, queries)
    }

    /// The same load and probes without Tally: how long after its `produce()` a plain consumer
    /// (librdkafka through Tally's wrapper, the engine's fetch settings) polls each probe. What
    /// the broker and the client take; the difference to `run()` is Tally's.
    func floor(fetchWaitMs: String) throws -> (latencies: [Double], missed: Int, load: Int) {
        let consumer = try Consumer(config: [
            "bootstrap.servers": broker.bootstrap, "group.id": "tally-bench-floor-\(getpid())",
            "fetch.wait.max.ms": fetchWaitMs,
        ])
        let partitions = try consumer.partitions(of: topic)
        try consumer.assign(partitions.map { TopicPartitionOffset(topic, $0, .end) })
        let seen = Mutex<Set<String>>([])
        let control = LoadControl()
        let started = OSThread.start(name: "bench-floor") {
            defer { control.done.store(true, ordering: .releasing) }
            while !control.stop.load(ordering: .acquiring) {
                guard let batch = try? consumer.poll(maxMessages: 10_000, timeout: .milliseconds(20)) else { continue }
                var keys: [String] = []
                for m in batch {
                    if let k = m.key, k.starts(with: "probe-".utf8) { keys.append(String(decoding: k, as: UTF8.self)) }
                }
                batch.release()
                if !keys.isEmpty { seen.withLock { $0.formUnion(keys) } }
            }
        }
        guard started == 0 else { throw CLIError("cannot start the floor consumer thread") }
        defer {
            control.stop.store(true, ordering: .releasing)
            while !control.done.load(ordering: .acquiring) { usleep(1000) }
            try? consumer.close()
        }
        usleep(500_000)  // the consumer has its partitions
        // A short pause between looks at the set, so that they do not take a whole core.
        return try probe(pauseMicros: 50) { key in seen.withLock { $0.contains(key) } }
    }

    /// Produces the load on `topic` and a probe every 20 ms for `seconds`, each waited for until
    /// `visible(key)` holds (at most 5 s), asked again after `pauseMicros`; returns the probes'
    /// latencies in ms, how many were never seen, and the load achieved.
    func probe(
        pauseMicros: UInt32, until visible: (String) -> Bool
    ) throws -> (latencies: [Double], missed: Int, load: Int) {
        let load = LoadControl()
        let bootstrap = broker.bootstrap, rate = self.rate, topic = self.topic
        let started = OSThread.start(name: "bench-load") {
            defer { load.done.store(true, ordering: .releasing) }
            Self.produceLoad(bootstrap: bootstrap, topic: topic, rate: rate, control: load)
        }
        guard started == 0 else { throw CLIError("cannot start the load thread") }
        defer {
            load.stop.store(true, ordering: .releasing)
            while !load.done.load(ordering: .acquiring) { usleep(1000) }
        }
        usleep(500_000)  // the load reaches its rate
        let probe = try Producer(config: ["bootstrap.servers": bootstrap, "linger.ms": "0"])
        var latencies: [Double] = [], missed = 0
        let loadStart = load.sent.load(ordering: .relaxed), clockStart = ContinuousClock.now
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var i = 0
        while ContinuousClock.now < end {
            let tick = ContinuousClock.now
            i += 1
            let key = "probe-\(getpid())-\(runNumber)-\(i)"
            let event = #"{"event_type":"OrderCreated","customer_id":"\#(key)","total":1.00,"timestamp":\#(Self.epochMillis())}"#
            let t0 = ContinuousClock.now
            try probe.produce(topic: topic, key: Array(key.utf8), value: Array(event.utf8))
            _ = probe.poll()
            var counted = false
            while ContinuousClock.now - t0 < .seconds(5) {
                if visible(key) {
                    counted = true
                    break
                }
                _ = probe.poll()
                if pauseMicros > 0 { usleep(pauseMicros) }
            }
            if counted { latencies.append(BenchRun.seconds(since: t0) * 1000) } else { missed += 1 }
            let next = tick + .milliseconds(20)
            while ContinuousClock.now < next { usleep(500) }
        }
        let achieved = Double(load.sent.load(ordering: .relaxed) - loadStart) / BenchRun.seconds(since: clockStart)
        try probe.flush(timeout: .seconds(10))
        return (latencies, missed, Int(achieved))
    }

    /// Wall-clock time in epoch milliseconds (the events' `timestamp`).
    static func epochMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Whether a key's answer holds a window that counted the probe.
    static func counted(_ body: [UInt8]) -> Bool {
        guard let doc = try? JSONValue.parse(body), case .array(let windows)? = doc["windows"] else { return false }
        return windows.contains { w in
            if case .number(let n)? = w["values"]?["count"] { return n >= 1 }
            return false
        }
    }

    /// Order events at `rate` per second, in 5 ms ticks, stamped with the current time, until `stop`.
    static func produceLoad(bootstrap: String, topic: String, rate: Int, control: LoadControl) {
        guard let producer = try? Producer(config: ["bootstrap.servers": bootstrap, "linger.ms": "2"]) else { return }
        var rng = SplitMix64(seed: 3)
        let perTick = max(1, rate / 200)
        var next = ContinuousClock.now
        var order = 0
        var value: [UInt8] = [], key: [UInt8] = []
        while !control.stop.load(ordering: .acquiring) {
            let now = Self.epochMillis()
            for _ in 0..<perTick {
                order += 1
                let customer = "c\(rng.next(10_000))"
                let r = rng.next(10)
                let type = r < 6 ? "OrderCreated" : r < 9 ? "OrderShipped" : "OrderCancelled"
                value.removeAll(keepingCapacity: true)
                value += #"{"event_type":"\#(type)","order_id":\#(order),"customer_id":"\#(customer)","total":\#(BenchWorkload.decimal(100 + rng.next(49_901))),"items":\#(1 + rng.next(8)),"timestamp":\#(now)}"#.utf8
                key.removeAll(keepingCapacity: true)
                key += customer.utf8
                guard (try? producer.produce(topic: topic, key: key, value: value)) != nil else { return }
            }
            control.sent.add(perTick, ordering: .relaxed)
            _ = producer.poll()
            next = next + .milliseconds(5)
            while ContinuousClock.now < next { usleep(200) }
        }
        try? producer.flush(timeout: .seconds(10))
    }
}

/// What the load thread and the probe share.
final class LoadControl: Sendable {
    let stop = Atomic<Bool>(false)
    let done = Atomic<Bool>(false)
    let sent = Atomic<Int>(0)
}
