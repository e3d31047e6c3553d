import Dispatch
import Kafka
import Logging
import Synchronization

/// The live engine: one loop that owns all mutable state and runs, in order,
/// poll → decode and process → close windows → emit → checkpoint (see `runOnce`).
/// HTTP handlers read through `QueryService`, under the same lock the loop holds per batch.
public final class Engine: @unchecked Sendable {
    // Safe to share: every mutable field below is touched only by the loop thread, or under `lock`.
    let config: EngineConfig
    let logger: Logger
    let lock = EngineLock()
    let store: StateStore
    let consumer: Consumer
    let producer: Producer
    let pipelines: [TopicPipeline]
    var pipelineByTopic: [String: TopicPipeline] = [:]
    /// Every definition's runtime, across topics (fixed at start).
    let runtimes: [DefinitionRuntime]
    let stopFlag = Atomic<Bool>(false)
    var healthStatus = HealthStatus(status: "starting", ready: false)
    var lastCheckpoint: Int64?
    var nextCheckpoint: Int64 = 0
    /// Watches the broker while the loop runs (set by `run`).
    let monitor = Mutex<BrokerMonitor?>(nil)
    /// The pipeline of the last message's topic: messages of a batch share one topic String, so
    /// the identity check is one compare instead of hashing the name per message.
    var lastTopic = ""
    var lastPipeline: TopicPipeline?
    /// The emit step's thread: encodes results and hands them to the producer.
    let output: OutputStage
    /// Writes each checkpoint to RocksDB while the loop goes on.
    let writer = CheckpointWriter()
    /// Counters since start, for metrics and tests.
    let metrics: EngineMetrics
    /// A failure of an emit the operator asked for in the middle of a window (see `onResults`).
    var deferredError: (any Error)?
    /// Group mode: the engine's consumer properties, which its readers (changelog, registry) start from.
    var consumerConfig: [String: String] = [:]
    /// Group mode: reads shards' changelogs (made when first needed).
    var changelogReader: ChangelogReader?
    /// Group mode: a failure of a rebalance handler, thrown at the rebalance's event.
    var rebalanceFailure: (any Error)?
    /// Group mode: the other instances and their partitions.
    var registry: InstanceRegistry?
    /// Group mode with routers: commits their source offsets, under `routerGroup`.
    var routerOffsets: Consumer?
    /// Group mode with routers: when they next send ticks (`tickRouters`).
    var nextTick: Int64 = 0
    /// Group mode with routers: the source partitions' end offsets (`checkIdleClaims`).
    var endOffsets: EndOffsetWatcher?

    /// Opens the state (refusing incompatible definitions), restores it, and connects to Kafka.
    public init(definitions: [Definition], config: EngineConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        // Group mode: a definition that repartitions reads its repartition topic; its source's
        // pipeline routes its events there.
        var byTopic: [String: [Definition]] = [:]
        var routedBy: [String: [Definition]] = [:]
        var repartitionTopics: Set<String> = []
        for d in definitions {
            if config.scaleOut && d.repartition {
                let topic = Self.repartitionTopic(group: config.group, d.name)
                byTopic[topic, default: []].append(d)
                routedBy[d.source, default: []].append(d)
                repartitionTopics.insert(topic)
            } else {
                byTopic[d.source, default: []].append(d)
            }
        }
        pipelines = Set(byTopic.keys).union(routedBy.keys).sorted().map { topic in
            TopicPipeline(
                topic: topic, definitions: byTopic[topic] ?? [], sharded: config.scaleOut,
                routed: (routedBy[topic] ?? []).map { ($0, topic: Self.repartitionTopic(group: config.group, $0.name)) },
                isRepartition: repartitionTopics.contains(topic))
        }
        for p in pipelines { pipelineByTopic[p.topic] = p }
        runtimes = pipelines.flatMap(\.runtimes)
        for (i, rt) in runtimes.enumerated() { rt.index = i }
        metrics = EngineMetrics(definitions: definitions)
        store = try StateStore(
            path: config.statePath, definitions: definitions, reset: config.resetState, memoryBudget: config.memoryBudget,
            deferCompactions: true)
        for rt in runtimes where !config.scaleOut {
            // Parts spilled by an earlier run are read whatever the budget is now.
            rt.soleShard.spillStore = store.spillStore(for: rt.soleShard)
            rt.soleShard.memoryBudget = config.memoryBudget.map { $0 / definitions.count }
        }
        var consumerConfig = config.consumerConfig
        consumerConfig["bootstrap.servers"] = config.bootstrap
        consumerConfig["group.id"] = config.group
        if config.scaleOut && consumerConfig["partition.assignment.strategy"] == nil {
            // Partitions that stay are not revoked at each rebalance (docs/scale-out.md).
            consumerConfig["partition.assignment.strategy"] = "cooperative-sticky"
        }
        if consumerConfig["queued.min.messages"] == nil {
            // A small prefetch, kept full by `PrefetchWaker`: a large one holds the backlog in memory.
            consumerConfig["queued.min.messages"] = String(PrefetchWaker.defaultLimit)
        }
        consumer = try Consumer(config: consumerConfig)
        self.consumerConfig = consumerConfig
        var producerConfig = config.producerConfig
        producerConfig["bootstrap.servers"] = config.bootstrap
        // Every checkpoint waits for the producer to flush: a short linger keeps that wait short.
        if producerConfig["linger.ms"] == nil { producerConfig["linger.ms"] = "5" }
        // Results wait for the broker however long it is away: a checkpoint only happens once
        // they are delivered, so a result that timed out would be lost for good.
        if producerConfig["message.timeout.ms"] == nil { producerConfig["message.timeout.ms"] = "0" }
        // zstd's fastest level: results are small JSON records that compress well anyway, and
        // compressing runs on the core the loop shares with the fetch thread.
        if producerConfig["compression.level"] == nil { producerConfig["compression.level"] = "1" }
        // A routed event's shard skips records whose source offset is not above the last it
        // applied: a retry must never reorder them (docs/scale-out.md).
        if pipelines.contains(where: { !$0.routers.isEmpty }) && producerConfig["enable.idempotence"] == nil {
            producerConfig["enable.idempotence"] = "true"
        }
        producer = try Producer(config: producerConfig)
        output = OutputStage(runtimes: runtimes, producer: producer)
        healthStatus = HealthStatus(status: "restoring", ready: false, detail: "reading the stored state")
    }

    /// Asks the loop to stop after its current step; `run()` then checkpoints and returns.
    public func stop() { stopFlag.store(true, ordering: .relaxed) }

    /// Runs until `stop()`: restore, assign partitions, loop, final checkpoint.
    public func run() throws {
        FailPoint.hit("startup")
        logger.info("Tally \(TallyInfo.version), librdkafka \(Librdkafka.version)")
        try checkOutputTopics()
        try restore()
        FailPoint.hit("restored")
        if config.scaleOut { try joinGroup() } else { try assignPartitions() }
        // The probe asks the broker through a client of its own: its metadata and offset
        // requests, made through the engine's consumer, held that consumer's fetches back for
        // ~30–40 ms every second (the tail of the ingest-to-queryable latency).
        let probe = BrokerMonitor(
            consumer: try Consumer(config: readerConfig("probe")), topic: pipelines[0].topic, partition: 0,
            interval: config.brokerProbeInterval, logger: logger)
        probe.start()
        monitor.withLock { $0 = probe }
        defer {
            probe.stop()
            monitor.withLock { $0 = nil }  // its client goes now, not when the engine does: the broker may go first
        }
        let waker = PrefetchWaker(
            consumer: consumer, limit: consumerConfig["queued.min.messages"].flatMap { Int($0) } ?? PrefetchWaker.defaultLimit,
            logger: logger)
        waker.start()
        defer { waker.stop() }
        endOffsets?.start()
        defer { endOffsets?.stop() }
        output.start()
        for rt in runtimes {
            for op in rt.shards { forwardResults(rt, op) }
        }
        lock.withLock { healthStatus = HealthStatus(status: "ok", ready: true) }
        nextCheckpoint = Clock.now() + config.checkpointInterval
        logger.info("running", metadata: ["definitions": "\(runtimes.map(\.definition.name))"])
        do {
            while !stopFlag.load(ordering: .relaxed) {
                try runOnce()
            }
        } catch {
            try? writer.wait()  // no write left half done when the process exits
            throw error
        }
        let final = try checkpoint()
        try writer.wait()
        leaveRegistry()
        output.stop()
        closeConsumer(within: 5)
        store.close(flushing: final)
        if final {
            logger.info("stopped after a final checkpoint")
        } else {
            logger.warning("stopped without a final checkpoint (the broker has not acknowledged every result); the next start resumes from the previous one")
        }
    }

    /// Leaves the group, waiting at most `seconds`: a consumer whose coordinator is gone (the
    /// broker went away) would otherwise wait for it forever; the process ends anyway.
    func closeConsumer(within seconds: Double) {
        let done = DispatchSemaphore(value: 0)
        let consumer = self.consumer
        OSThread.start(name: "tally-close") {
            try? consumer.close()
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            logger.warning("the Kafka consumer did not close within \(Int(seconds)) s (its group coordinator is unreachable); going on")
        }
    }

    /// Messages processed under one hold of the engine lock.
    static let visibilityChunk = 64

    /// One turn of the loop, in order: poll a batch; decode and process it (windows close as the
    /// watermark passes, results go to the producer); let idle partitions go; checkpoint when due.
    func runOnce() throws {
        let batch = try consumer.poll(maxMessages: config.batchSize, timeout: .milliseconds(50))
        let now = Clock.now()
        if batch.count > 0 { FailPoint.hit("polled") }
        // Group mode: the shards moved inside the rebalances themselves (see `joinGroup`).
        for (_, event) in batch.rebalances { try rebalanced(event) }
        // In chunks, each counted and then visible to queries at once: a query waits for one
        // chunk, and an event is visible as soon as its chunk is done, not the whole batch.
        var next = 0
        while next < batch.count {
            let end = min(batch.count, next + Self.visibilityChunk)
            try lock.withLock {
                for i in next..<end { try process(batch[i], now: now) }
            }
            next = end
        }
        try lock.withLock {
            for rt in runtimes {
                // A repartitioned shard's lanes go idle when their routers say so (`Router`).
                let idleTimeout = rt.isRouted ? nil : config.idleTimeout
                for op in rt.shards {
                    op.refreshWatermark(now: now, idleTimeout: idleTimeout)
                    if !op.results.isEmpty { try emit(rt, op) }
                }
            }
        }
        if let deferredError { throw deferredError }
        try tickRouters(now: now)
        if batch.count > 0 { recordLatency(batch, visibleAt: Clock.nowMicros()) }
        batch.release()
        producer.poll()
        if let probe = monitor.withLock({ $0 }) {
            probe.report(now: now)
            if let change = probe.takeClusterChange() { try clusterChanged(from: change.old, to: change.new) }
        }
        metrics.publish(runtimes)
        publishRouted()
        // Over the memory budget, the checkpoint comes early: it is where accumulators spill.
        if now >= nextCheckpoint || runtimes.contains(where: { $0.shards.contains(where: \.isOverBudget) }) {
            try checkpoint()
            nextCheckpoint = Clock.now() + config.checkpointInterval
        }
    }

    /// Ingest-to-queryable latency of up to `EngineMetrics.latencySamples` messages spread
    /// evenly over the batch (each costs a call into librdkafka and a histogram update).
    func recordLatency(_ batch: MessageBatch, visibleAt: Int64) {
        let step = (batch.count + EngineMetrics.latencySamples - 1) / EngineMetrics.latencySamples
        for i in stride(from: 0, to: batch.count, by: step) {
            let m = batch[i]
            guard m.error == nil, !m.isPartitionEOF, let t = m.timestamp else { continue }
            metrics.ingestLatency.recordMicroseconds(max(0, visibleAt - t * 1000))
        }
    }

    @inline(__always)
    func process(_ m: KafkaMessage, now: Int64) throws {
        if let error = m.error {
            logger.warning("consumer: \(error)")
            metrics.consumerErrors.increment()
            if error.code == KafkaError.offsetOutOfRange || error.code == KafkaError.autoOffsetReset,
                let pipeline = pipelineByTopic[m.topic]
            {
                // The consumer moves to another offset: check where the next message lands.
                for rt in pipeline.runtimes where rt.next(Int(m.partition)) >= 0 {
                    rt.expect(Int(m.partition), rt.next(Int(m.partition)))
                }
            }
            return
        }
        guard let pipeline = pipeline(of: m.topic) else { return }
        // Group mode: a message of a partition no longer owned (fetched before its revocation).
        if config.scaleOut && !pipeline.owns(m.partition) { return }
        let p = Int(m.partition)
        let position = pipeline.position(p)
        if position >= 0 && m.offset < position { offsetsWentBack(pipeline, partition: m.partition, from: position, to: m.offset) }
        pipeline.setPosition(p, m.offset + 1)
        if pipeline.isRepartition { return try processRouted(m, pipeline, now: now) }
        try pipeline.scanner.scan(m.payload) { scan, view in
            for rt in pipeline.runtimes {
                guard admit(rt, m) else { continue }
                try apply(scan, view, rt, m, now: now, lane: m.partition)
            }
            for router in pipeline.routers { try route(scan, view, router, m, now: now) }
        }
    }

    /// Whether `rt` has yet to count `m` (it did before a restart, or before a reset caught
    /// up); if so, `m` counts as read from now on.
    @inline(__always)
    func admit(_ rt: DefinitionRuntime, _ m: KafkaMessage) -> Bool {
        let p = Int(m.partition)
        if m.offset < rt.next(p) { return false }
        let expected = rt.takeExpected(p)
        if expected >= 0 && m.offset > expected { reportGap(rt, partition: m.partition, expected: expected, got: m.offset) }
        rt.setNext(p, m.offset + 1)
        return true
    }

    /// Counts one event in `rt`'s shard of `m`'s partition, dead-letters it when it is late or
    /// rejected (`origin`: where a routed event was read first), and emits what closed. `lane`:
    /// the watermark's partition (a routed event's is its source partition's lane in the shard).
    @inline(__always)
    func apply(
        _ scan: EventScanner.Outcome, _ view: EventView, _ rt: DefinitionRuntime, _ m: KafkaMessage, now: Int64, lane: Int32,
        origin: RoutedOrigin? = nil
    ) throws {
        let op = rt.shard(for: Int(m.partition))
        let outcome: EventOutcome
        switch scan {
        case .object: outcome = op.process(view, partition: lane, recordTime: op.usesRecordTime ? m.timestamp : nil, now: now)
        case .notAnObject: op.reject(partition: lane, now: now); outcome = .rejected(.notAnObject)
        case .invalid: op.reject(partition: lane, now: now); outcome = .rejected(.invalidJSON)
        }
        rt.stats.record(outcome)
        switch outcome {
        case .late:
            try deadLetter(rt, m, reason: "late", origin: origin)
        case .rejected(let r): try deadLetter(rt, m, reason: r.rawValue, origin: origin)
        default: break
        }
        if !op.results.isEmpty { try emit(rt, op) }
    }

    /// Lets `op` hand over a window combined from spilled parts in chunks, as it is read.
    func forwardResults(_ rt: DefinitionRuntime, _ op: WindowOperator) {
        op.onResults = { [unowned self, unowned rt, unowned op] in
            do { try emit(rt, op) } catch { if deferredError == nil { deferredError = error } }
        }
    }

    @inline(__always) func pipeline(of topic: String) -> TopicPipeline? {
        if topic == lastTopic, let p = lastPipeline { return p }
        lastTopic = topic
        lastPipeline = pipelineByTopic[topic]
        return lastPipeline
    }

    /// A stored offset that is gone (retention, or a recreated topic): the events in between are
    /// lost to Tally. Reported loudly with the count; processing goes on from what is there.
    func reportGap(_ rt: DefinitionRuntime, partition: Int32, expected: Int64, got: Int64) {
        let lost = got - expected
        metrics.lostEvents(rt.definition.name).increment(by: Int64(lost))
        logger.error("data loss: \(rt.definition.source)[\(partition)] resumed at offset \(got) but \(rt.definition.name) expected \(expected); \(lost) event(s) are no longer in the topic and were not counted")
    }

    /// The log of a partition starts again below where it was read (the topic was recreated, or
    /// the broker lost its data): the offsets stored for it mean nothing any more. Reported
    /// loudly; every definition reads the new log from where it now starts.
    func offsetsWentBack(_ pipeline: TopicPipeline, partition: Int32, from: Int64, to: Int64) {
        metrics.offsetRewinds.increment()
        logger.error("offsets of \(pipeline.topic)[\(partition)] went back from \(from) to \(to): the topic was recreated or the broker lost its data; reading it again from offset \(to) (earlier results stay as emitted)")
        for rt in pipeline.runtimes where rt.next(Int(partition)) > to {
            rt.setNext(Int(partition), to)
            _ = rt.takeExpected(Int(partition))
        }
    }

    /// The broker answering is another cluster (a restarted mock, a failover gone wrong): its
    /// topics are new logs whose offsets have nothing to do with the stored ones. Reported
    /// loudly; every partition is read again from the beginning of its new log. Messages already
    /// fetched from the new cluster at the old offsets before this was noticed may be counted
    /// twice: a new cluster is an incident, not a normal operation.
    func clusterChanged(from old: String, to new: String) throws {
        metrics.offsetRewinds.increment()
        logger.error("the Kafka cluster changed (id \(old) -> \(new)): its topics are new logs; reading every partition again from its beginning (earlier results stay as emitted)")
        lock.withLock {
            for pipeline in pipelines {
                for p in pipeline.partitions {
                    pipeline.setPosition(Int(p), -1)
                    for rt in pipeline.runtimes {
                        rt.setNext(Int(p), -1)
                        _ = rt.takeExpected(Int(p))
                    }
                }
                // Routed events carry offsets of the new source log: none was applied yet.
                for rt in pipeline.runtimes where rt.isRouted { rt.forgetRoutedOffsets() }
            }
        }
        let positions = pipelines.flatMap { pl in pl.partitions.map { TopicPartitionOffset(pl.topic, $0, .beginning) } }
        // Group mode moves the owned partitions; the group keeps the assignment.
        if config.scaleOut { try consumer.seek(positions) } else { try consumer.assign(positions) }
    }

    /// Hands the new results of one of the definition's shards to the output stage, keeping the
    /// final ones visible to queries until the checkpoint that stores them.
    func emit(_ rt: DefinitionRuntime, _ op: WindowOperator) throws {
        // A window combined from spilled parts that could not all be read is not sent.
        if let failure = store.spillFailure() { throw EngineError(failure) }
        let shard = rt.isSharded ? rt.shards.firstIndex { $0 === op }.map { rt.shardPartitions[$0] } ?? -1 : -1
        rt.pendingClosed.appendFinal(of: op.results, shard: shard)
        rt.stats.emitted += op.results.count
        try output.submit(rt.index, &op.results)
    }

    /// Sends `m` to the definition's dead-letter topic, as it was read from its source: a routed
    /// event with its `origin`'s partition, offset and key.
    func deadLetter(_ rt: DefinitionRuntime, _ m: KafkaMessage, reason: String, origin: RoutedOrigin? = nil) throws {
        let headers: [(String, [UInt8])] = [
            ("tally.reason", Array(reason.utf8)),
            ("tally.query", Array(rt.definition.name.utf8)),
            ("tally.topic", Array((origin == nil ? m.topic : rt.definition.source).utf8)),
            ("tally.partition", Array(String(origin?.partition ?? m.partition).utf8)),
            ("tally.offset", Array(String(origin?.offset ?? m.offset).utf8)),
        ]
        try producer.produce(topic: rt.definition.deadLetter, key: origin == nil ? m.key : origin!.key, value: m.payload, headers: headers)
    }
}
