import Kafka
import Metrics

/// Group mode, definitions with `repartition` (docs/scale-out.md, "The repartition topic"): the
/// source's pipeline routes each event to the partition of `<group>-<name>-repartition` that its
/// group key hashes to; the shards read that topic. A record routed again (its router moved
/// before committing its source offsets) is skipped by the shard, which keeps the last source
/// offset it applied per source partition in its state and changelog.
extension Engine {
    /// The repartition topic of a definition.
    static func repartitionTopic(group: String, _ definition: String) -> String { "\(group)-\(definition)-repartition" }

    /// Passes one event of a source partition to its definition's repartition topic.
    @inline(__always)
    func route(_ scan: EventScanner.Outcome, _ view: EventView, _ router: Router, _ m: KafkaMessage, now: Int64) throws {
        let isObject: Bool
        if case .object = scan { isObject = true } else { isObject = false }
        let partition = router.partition(of: isObject ? view : nil, sourcePartition: m.partition)
        router.observe(isObject ? view : nil, sourcePartition: m.partition, offset: m.offset, recordTime: m.timestamp, now: now)
        let key = router.routedKey(sourcePartition: m.partition, offset: m.offset, key: m.key)
        try producer.produce(topic: router.topic, partition: partition, key: key, value: m.payload, timestamp: m.timestamp)
        router.routed += 1
    }

    /// One record of a repartition topic: counted by the shard of its partition unless that
    /// shard already counted the event it carries; a tick moves the time of its source
    /// partition's lane.
    func processRouted(_ m: KafkaMessage, _ pipeline: TopicPipeline, now: Int64) throws {
        let rt = pipeline.runtimes[0]
        guard admit(rt, m) else { return }
        guard let origin = RoutedKey.parse(m.key) else {
            // Written by someone else: it has no place in the shard's count.
            repartitionMetrics(rt.definition.name).foreign.increment()
            logger.error("\(m.topic)[\(m.partition)] offset \(m.offset): a record Tally did not route (its key is not a routed key); sent to \(rt.definition.deadLetter)")
            try deadLetter(rt, m, reason: "not-routed")
            return
        }
        // The shard's watermark lane of the event's source partition.
        let lane = origin.partition
        if origin.isTick {
            // A tick of an earlier router run carries an older time: no effect.
            if let tick = RoutedKey.parseTick(m.payload) {
                if let time = tick.time { _ = rt.shard(for: Int(m.partition)).watermarks.observe(lane, time: time, now: now) }
                rt.claim(source: lane, idle: tick.idle, offset: origin.offset)
            }
            return
        }
        guard rt.admitRouted(shard: Int(m.partition), source: origin.partition, offset: origin.offset) else {
            repartitionMetrics(rt.definition.name).duplicates.increment()
            return
        }
        try pipeline.scanner.scan(m.payload) { scan, view in try apply(scan, view, rt, m, now: now, lane: lane, origin: origin) }
    }

    /// Sends, at most every `tickInterval` ms, a tick to every repartition partition for each
    /// owned source partition whose routed time moved or that is idle (see `Router`).
    func tickRouters(now: Int64) throws {
        guard now >= nextTick else { return }
        nextTick = now + Self.tickInterval
        checkIdleClaims(now: now)
        for pipeline in pipelines where !pipeline.routers.isEmpty {
            for router in pipeline.routers {
                for t in router.takeTicks(pipeline.partitions, now: now, idleTimeout: config.idleTimeout) {
                    let tick = RoutedKey.tick(t)
                    for r in 0..<router.partitions {
                        try producer.produce(topic: router.topic, partition: r, key: tick.key, value: tick.value)
                    }
                }
            }
        }
    }

    /// Applies the routers' idle claims to every repartitioned shard (`DefinitionRuntime.applyIdleClaims`)
    /// against the source partitions' end offsets.
    func checkIdleClaims(now: Int64) {
        guard let endOffsets else { return }
        lock.withLock {
            for rt in runtimes where rt.isRouted {
                rt.applyIdleClaims(now: now) { endOffsets.end(TopicPartition(rt.definition.source, $0), now: now) }
            }
        }
    }

    /// How often routers send ticks, in ms.
    static let tickInterval: Int64 = 100

    /// The group under which routers commit their source offsets: not the instances' own, whose
    /// members' commits are refused during a rebalance (and cost them their assignment).
    var routerGroup: String { "\(config.group)-routers" }

    /// Checks that each repartition topic exists and learns its partition count, which the
    /// definition's changelog must share; makes the consumer that commits the routers' offsets.
    func checkRepartitionTopics() throws {
        if pipelines.contains(where: { !$0.routers.isEmpty }) {
            var c = readerConfig("router")
            c["group.id"] = routerGroup
            routerOffsets = try Consumer(config: c)
        }
        for pipeline in pipelines {
            for router in pipeline.routers {
                let count = (try? consumer.partitions(of: router.topic).count) ?? 0
                guard count > 0 else {
                    throw EngineError("\(router.definition.name) repartitions its events (\"repartition\": true) through the topic \(router.topic), which must exist (as many partitions as shards you want; the changelog \(changelogTopic(router.definition.name)) then has as many), e.g. `tally broker --topic \(router.topic):\((try? consumer.partitions(of: router.definition.source).count) ?? 8)`")
                }
                router.partitions = Int32(count)
                // Each shard of the definition tracks its watermark per source partition.
                let shards = pipelineByTopic[router.topic]!.runtimes[0]
                shards.repartitionCount = Int32(count)
                shards.sourceCount = Int32(try consumer.partitions(of: router.definition.source).count)
            }
        }
        let watched = Set(pipelines.filter { !$0.routers.isEmpty }.map(\.topic)).sorted().flatMap { topic in
            (0..<((try? consumer.partitions(of: topic).count) ?? 0)).map { TopicPartition(topic, Int32($0)) }
        }
        if !watched.isEmpty { endOffsets = EndOffsetWatcher(consumer: try Consumer(config: readerConfig("ends")), partitions: watched) }
    }

    /// The source offsets the routers may commit: for each owned partition of a pipeline with
    /// routers, the offset after the last message read. Everything routed before is flushed.
    func routerCommits() -> [TopicPartitionOffset] {
        var out: [TopicPartitionOffset] = []
        for pipeline in pipelines where !pipeline.routers.isEmpty {
            for p in pipeline.partitions where pipeline.position(Int(p)) >= 0 {
                out.append(TopicPartitionOffset(pipeline.topic, p, KafkaOffset(pipeline.position(Int(p)))))
            }
        }
        return out
    }

    /// Where the routers of `partitions` (of pipelines with routers) resume: their committed
    /// source offsets; the beginning where none is (or it cannot be read: the shards skip what
    /// they already counted).
    func routerStarts(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let routed = partitions.filter { pipelineByTopic[$0.topic].map { !$0.routers.isEmpty } ?? false }
        guard !routed.isEmpty else { return [:] }
        do {
            var out: [TopicPartition: Int64] = [:]
            guard let routerOffsets else { return [:] }
            for c in try routerOffsets.committed(routed) where c.offset.isAbsolute {
                out[TopicPartition(c.topic, c.partition)] = c.offset.rawValue
            }
            return out
        } catch {
            logger.warning("cannot read the committed offsets of \(routed.map(\.description).joined(separator: ", ")) (\(error)): routing them again from the beginning; the shards skip what they counted")
            return [:]
        }
    }

    /// Publishes the routed counts.
    func publishRouted() {
        for pipeline in pipelines {
            for router in pipeline.routers where router.routed > router.published {
                repartitionMetrics(router.definition.name).routed.increment(by: Int64(router.routed - router.published))
                router.published = router.routed
            }
        }
    }

    func repartitionMetrics(_ name: String) -> EngineMetrics.Repartition {
        if let m = metrics.repartition[name] { return m }
        let q = [("query", name)]
        let m = EngineMetrics.Repartition(
            routed: Counter(label: "tally_repartition_routed_total", dimensions: q),
            duplicates: Counter(label: "tally_repartition_duplicates_total", dimensions: q),
            foreign: Counter(label: "tally_repartition_foreign_total", dimensions: q))
        metrics.repartition[name] = m
        return m
    }
}
