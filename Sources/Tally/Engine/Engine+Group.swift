import Kafka

/// Group mode (`EngineConfig.scaleOut`, docs/scale-out.md): instances with the same group share
/// the source partitions; each owned partition is a shard, whose changes go to its changelog at
/// every checkpoint, so that whichever instance owns it next rebuilds it.
extension Engine {
    /// The changelog topic of a definition's shards.
    func changelogTopic(_ definition: String) -> String { "\(config.group)-\(definition)-changelog" }

    /// Checks that every changelog topic exists with as many partitions as its source, then joins
    /// the group; partitions come as `RebalanceEvent`s from `poll`.
    func joinGroup() throws {
        try checkRepartitionTopics()
        for pipeline in pipelines {
            let count: Int
            do {
                count = try consumer.partitions(of: pipeline.topic).count
            } catch {
                throw EngineError("source topic \(pipeline.topic) is not available: \(error)")
            }
            guard count > 0 else { throw EngineError("source topic \(pipeline.topic) does not exist") }
            for rt in pipeline.runtimes {
                let log = changelogTopic(rt.definition.name)
                let logCount = (try? consumer.partitions(of: log).count) ?? 0
                guard logCount == count else {
                    throw EngineError("with --scale-out, the shards of \(rt.definition.name) keep their state in the topic \(log), which must exist with \(count) partitions like \(pipeline.topic) (it has \(logCount)); create it, compacted on a real cluster (cleanup.policy=compact), e.g. `tally broker --topic \(log):\(count)`")
                }
            }
        }
        if let http = config.advertisedHTTP {
            let topic = "\(config.group)-instances"
            guard ((try? consumer.partitions(of: topic).count) ?? 0) > 0 else {
                throw EngineError("with --scale-out, instances find each other through the topic \(topic), which must exist (one partition is enough; compacted on a real cluster), e.g. `tally broker --topic \(topic):1`")
            }
            let r = try InstanceRegistry(
                topic: topic, http: http, staleAfter: max(10_000, 3 * config.checkpointInterval), consumerConfig: readerConfig("registry"))
            r.start()
            registry = r
        }
        // Shards are handed over and read inside the rebalance: a revoked partition's shard is
        // checkpointed before anyone else can take it, and an assigned one starts where its
        // shards left off (no message is fetched from anywhere else first). Messages of the
        // poll that come before the revocation are then skipped: the next owner reads them.
        consumer.setRebalanceHandlers(
            assigned: { [unowned self] partitions in
                do {
                    return try takeOver(partitions)
                } catch {
                    if rebalanceFailure == nil { rebalanceFailure = error }
                    return []
                }
            },
            revoked: { [unowned self] partitions in
                // Leaving the group at the end: the final checkpoint is already written.
                if stopFlag.load(ordering: .relaxed) { return }
                do {
                    try handOver(partitions)
                } catch {
                    if rebalanceFailure == nil { rebalanceFailure = error }
                }
            })
        try consumer.subscribe(pipelines.map(\.topic))
        logger.info("joined the consumer group \(config.group) for \(pipelines.map(\.topic).joined(separator: ", "))")
    }

    /// A change of the assignment that came with a poll: the shards were handed over or read
    /// during the rebalance (see `joinGroup`); a failure there stops the engine here.
    func rebalanced(_ event: RebalanceEvent) throws {
        if let failure = rebalanceFailure { throw failure }
        if case .failed(let reason) = event { logger.warning("consumer group: \(reason)") }
    }

    /// Revoked partitions: a checkpoint first (results acknowledged, changelogs and local state
    /// written), then their shards leave memory. Their stored state stays, for a later return.
    func handOver(_ partitions: [TopicPartition]) throws {
        guard !partitions.isEmpty else { return }
        if try !checkpoint() {
            logger.warning("handing over \(partitions.map(\.description).joined(separator: ", ")) without a checkpoint (the broker has not acknowledged every result): their next owner reads them again from the previous one")
        }
        try writer.wait()
        lock.withLock {
            for tp in partitions {
                guard let pipeline = pipelineByTopic[tp.topic] else { continue }
                for rt in pipeline.runtimes { rt.removeShard(tp.partition) }
                for router in pipeline.routers { router.forget(tp.partition) }
                pipeline.release(tp.partition)
                pipeline.setPosition(Int(tp.partition), -1)
            }
            shareMemoryBudget()
        }
        logger.info("handed over \(partitions.map(\.description).joined(separator: ", "))")
    }

    /// Assigned partitions: each definition's shard is read from local state when that matches
    /// the changelog's last checkpoint, else rebuilt from the changelog. Returns where each
    /// partition starts: its shards' lowest next offset, or its routers' committed offset when
    /// lower (the beginning when either has none).
    func takeOver(_ partitions: [TopicPartition]) throws -> [TopicPartitionOffset] {
        guard !partitions.isEmpty else { return [] }
        let started = Clock.nowMicros()
        let routerStarts = routerStarts(partitions)
        func start(_ pipeline: TopicPipeline, _ p: Int32) -> KafkaOffset {
            var low = Int64.max
            if !pipeline.runtimes.isEmpty { low = min(low, pipeline.lowestNext(p) ?? -1) }
            if !pipeline.routers.isEmpty { low = min(low, routerStarts[TopicPartition(pipeline.topic, p)] ?? -1) }
            return low >= 0 && low < .max ? KafkaOffset(low) : .beginning
        }
        var positions: [TopicPartitionOffset] = []
        for (i, tp) in partitions.enumerated() {
            guard let pipeline = pipelineByTopic[tp.topic] else { continue }
            if pipeline.owns(tp.partition) {  // kept (never with the protocols Tally uses)
                positions.append(TopicPartitionOffset(tp.topic, tp.partition, start(pipeline, tp.partition)))
                continue
            }
            lock.withLock {
                healthStatus = HealthStatus(status: "restoring", ready: false, detail: "partition \(tp) (\(i + 1) of \(partitions.count))")
            }
            for rt in pipeline.runtimes { try takeOver(tp.partition, of: rt, pipeline: pipeline) }
            lock.withLock {
                pipeline.own(tp.partition)
                pipeline.setPosition(Int(tp.partition), -1)  // known again with its first message
            }
            let from = start(pipeline, tp.partition)
            // Where its routers read from: an idle claim is checked against that.
            for router in pipeline.routers { router.resume(tp.partition, at: from.isAbsolute ? from.rawValue : 0) }
            positions.append(TopicPartitionOffset(tp.topic, tp.partition, from))
        }
        lock.withLock {
            shareMemoryBudget()
            healthStatus = HealthStatus(status: "ok", ready: true)
        }
        logger.info("took over \(positions.map(\.description).joined(separator: ", ")) in \((Clock.nowMicros() - started) / 1000) ms")
        return positions
    }

    /// One definition's shard of partition `p`: from local state when current, else from the changelog.
    func takeOver(_ p: Int32, of rt: DefinitionRuntime, pipeline: TopicPipeline) throws {
        let name = rt.definition.name
        let log = changelogTopic(name)
        if changelogReader == nil { changelogReader = try ChangelogReader(config: readerConfig("changelog")) }
        let reader = changelogReader!
        let tail = try reader.tail(topic: log, partition: p)
        let local = try store.shardCheckpoint(name, shard: p)
        let current = tail.records == 0 ? local == nil : (local != nil && local == tail.lastMarker)
        if !current {
            let restore = try reader.restore(topic: log, partition: p) { read, total in
                lock.withLock {
                    healthStatus = HealthStatus(status: "restoring", ready: false, detail: "\(name) partition \(p): \(read) of \(total) changelog records")
                }
            }
            if reader.firstOffset > 0 {
                logger.warning("\(log)[\(p)] starts at offset \(reader.firstOffset): its older records are gone. On a compacted topic that is expected; if they were dropped by retention (the development broker keeps ~5 MiB per partition), the rebuilt state of \(name) partition \(p) misses them")
            }
            let (entries, marker) = restore.finish()
            try store.replaceShard(name, source: rt.topic, shard: p, entries: entries, marker: marker)
            logger.info("\(name) partition \(p): rebuilt from \(log) (\(restore.records) records, \(entries.count) entries)")
        }
        try lock.withLock {
            let op = rt.addShard(p, plan: &pipeline.plan)
            op.spillStore = try store.spillStore(for: op, shard: p)
            forwardResults(rt, op)
            let r = try store.restore(op, shard: p)
            let offset = r.offsets[rt.topic]?[p] ?? -1
            rt.setNext(Int(p), offset)
            if offset >= 0 { rt.expect(Int(p), offset) }
            if rt.isRouted {
                rt.setRouted(shard: p, r.routed, now: Clock.now())
            } else {
                // The shard's own watermark, as it was stored: not this instance's pace.
                op.watermarks.assign(p, now: Clock.now(), restored: r.watermarks[p])
            }
        }
    }

    /// Properties of a consumer that reads a topic of the group's own (`role`: changelog,
    /// registry) by assignment: it never joins the group nor commits, and starts at the beginning.
    func readerConfig(_ role: String) -> [String: String] {
        var c = consumerConfig
        c["enable.auto.commit"] = "false"
        c["auto.offset.reset"] = "earliest"
        c["group.id"] = config.group + "-\(role)-reader"
        c.removeValue(forKey: "partition.assignment.strategy")
        return c
    }

    /// Splits the memory budget equally over every shard of every definition.
    func shareMemoryBudget() {
        guard let budget = config.memoryBudget else { return }
        for rt in runtimes {
            for op in rt.shards { op.memoryBudget = budget / runtimes.count / rt.shards.count }
        }
    }

    /// The record that tells the other instances which partitions this one owns (nil: none to send).
    func registryRecord(now: Int64, gone: Bool = false) -> (key: [UInt8], value: [UInt8])? {
        guard let registry else { return nil }
        var owned: [String: [Int32]] = [:]
        for pipeline in pipelines { owned[pipeline.topic] = pipeline.partitions }
        return registry.record(partitions: owned, gone: gone, now: now)
    }

    /// Tells the other instances that this one leaves, and stops reading the registry.
    func leaveRegistry() {
        guard let registry, let r = lock.withLock({ registryRecord(now: Clock.now(), gone: true) }) else { return }
        try? producer.produce(topic: registry.topic, key: r.key, value: r.value)
        try? producer.flush(timeout: .seconds(2))
        registry.stop()
    }

    /// The other live instances' HTTP addresses.
    public func peers() -> [String] {
        guard let registry else { return [] }
        return registry.live(now: Clock.now()).map(\.http).filter { $0 != registry.http }
    }

    /// The other live instances to ask for `key`: for a definition with `repartition`, whose
    /// shard of a key is known (`Murmur2` of its `GroupKey` bytes, as the router picks it), the owners of the key's
    /// possible shards first; else every one.
    public func peers(query name: String, key: [String]) -> [String] {
        let all = peers()
        // (`runtimes` and a runtime's definition never change; the partition count is set before
        // the group is joined.)
        guard let registry, let rt = runtime(named: name), rt.isRouted, key.count == rt.definition.groupBy.count else { return all }
        let count = lock.withLock { rt.repartitionCount }
        let shards = Set(Self.keyCandidates(key).map { Murmur2.partition(of: GroupKey.encode($0), count: count) })
        let owners = registry.live(now: Clock.now()).filter { !shards.isDisjoint(with: $0.partitions[rt.topic] ?? []) }.map(\.http)
        return Self.ownersFirst(all, owners: owners)
    }

    /// `peers` with those in `owners` first, each group in its order.
    static func ownersFirst(_ peers: [String], owners: [String]) -> [String] {
        let first = Set(owners)
        return peers.filter { first.contains($0) } + peers.filter { !first.contains($0) }
    }

    /// This instance's HTTP address as published.
    public var ownAddress: String? { registry?.http }

    /// Every live instance with its partitions of `topic` (this one as it is now).
    func instances(of topic: String) -> [InstanceStatus] {
        guard let registry else { return [] }
        var out = registry.live(now: Clock.now()).filter { $0.http != registry.http }
            .map { InstanceStatus(http: $0.http, partitions: $0.partitions[topic] ?? []) }
        out.append(InstanceStatus(http: registry.http, partitions: pipelineByTopic[topic]?.partitions ?? []))
        return out.sorted { $0.http < $1.http }
    }
}
