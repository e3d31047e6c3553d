import Kafka

extension Engine {
    /// Reads every definition's state back: accumulators, closing position, watermarks, offsets,
    /// counters; then lets RocksDB compact.
    func restore() throws {
        let started = Clock.nowMicros()
        let now = Clock.now()
        var slices = 0
        try lock.withLock {
            for rt in runtimes {
                guard !config.scaleOut else {
                    // Group mode: shards are read as their partitions are assigned.
                    rt.stats = try store.stats(rt.definition.name)
                    rt.published = rt.stats
                    continue
                }
                let op = rt.soleShard
                let r = try store.restore(op)
                rt.stats = r.stats
                rt.published = r.stats
                for (p, o) in r.offsets[rt.topic] ?? [:] { rt.setNext(Int(p), o) }
                for (p, t) in r.watermarks { op.watermarks.assign(p, now: now, restored: t) }
                slices += r.slices
            }
            lastCheckpoint = store.lastCheckpoint()
        }
        // RocksDB compacts from now on: during the restore it would share the cores with it.
        try store.resumeCompactions()
        logger.info("restored \(slices) window slices from \(config.statePath) in \((Clock.nowMicros() - started) / 1000) ms")
    }

    /// Checks that every definition's output and dead-letter topics exist. A broker that creates
    /// topics on first use would make them with its default partition count and settings (a real
    /// cluster's compaction or retention would be missing), and one that does not would fail every
    /// send until the checkpoint times out: both are refused at start, with the way out.
    func checkOutputTopics() throws {
        for rt in runtimes {
            let d = rt.definition
            for (role, topic, hint, count) in [
                ("output", d.output, "any partition count", 4), ("dead-letter", d.deadLetter, "one partition is enough", 1),
            ] {
                guard ((try? consumer.partitions(of: topic).count) ?? 0) == 0 else { continue }
                throw EngineError("the \(role) topic \(topic) of \(d.name) does not exist; create it (\(hint)), e.g. `tally broker --topic \(topic):\(count)` or `kafka-topics.sh --create --topic \(topic) --partitions \(count)`")
            }
        }
    }

    /// Assigns every partition of every source topic, each at the smallest next offset its
    /// definitions need (the beginning when one of them has none), and starts their watermarks.
    func assignPartitions() throws {
        var assignment: [TopicPartitionOffset] = []
        let now = Clock.now()
        for pipeline in pipelines {
            let partitions: [Int32]
            do {
                partitions = try consumer.partitions(of: pipeline.topic)
            } catch {
                throw EngineError("source topic \(pipeline.topic) is not available: \(error)")
            }
            guard !partitions.isEmpty else { throw EngineError("source topic \(pipeline.topic) does not exist") }
            for p in partitions { pipeline.own(p) }
            for p in partitions {
                pipeline.setPosition(Int(p), pipeline.lowestNext(p) ?? -1)
                let start = pipeline.lowestNext(p).map(KafkaOffset.init) ?? .beginning
                assignment.append(TopicPartitionOffset(pipeline.topic, p, start))
                for rt in pipeline.runtimes {
                    rt.shard(for: Int(p)).watermarks.assign(p, now: now)
                    if rt.next(Int(p)) >= 0 { rt.expect(Int(p), rt.next(Int(p))) }
                }
            }
        }
        try consumer.assign(assignment)
        logger.info("assigned \(assignment.count) partition(s): \(assignment.map(\.description).joined(separator: ", "))")
    }

    /// The checkpoint, in this order:
    /// 1. update-mode definitions emit their changed windows (coalesced per interval);
    /// 2. wait for the output stage, then flush the producer: every result emitted so far is
    ///    acknowledged by Kafka;
    /// 3. one synced RocksDB WriteBatch: changed slices, retained closed results, next offsets,
    ///    watermarks, closing positions and counters of every definition;
    /// 4. commit the same offsets to Kafka (advisory, for lag monitoring; restart trusts RocksDB).
    /// Steps 3 and 4 run on the `CheckpointWriter` while the loop goes on; the next checkpoint
    /// waits for them first. A crash before 3 is done replays from the previous checkpoint and
    /// emits the same results again, as does a crash after it for what the loop emitted since.
    /// When the broker does not acknowledge everything within `flushTimeout`, the checkpoint is
    /// postponed (nothing written; returns false) and the next one tries again.
    @discardableResult
    func checkpoint() throws -> Bool {
        try writer.wait()  // the previous checkpoint is on disk (or its failure stops the engine)
        let started = Clock.now()
        try lock.withLock {
            for rt in runtimes where rt.definition.emit == .update {
                for op in rt.shards {
                    op.flushUpdates()
                    if !op.results.isEmpty { try emit(rt, op) }
                }
            }
        }
        try output.drain()
        let inFlight = producer.pendingCount
        // Waited for in short steps, so that the broker's state reaches the log and metrics
        // while the wait lasts (the loop publishes it).
        let deadline = Clock.now() + config.flushTimeout
        while true {
            do {
                try producer.flush(timeout: .milliseconds(max(1, min(250, deadline - Clock.now()))))
                break
            } catch let error as KafkaError where error.code == KafkaError.timedOut {
                monitor.withLock { $0 }?.report(now: Clock.now())
                if Clock.now() < deadline { continue }
                metrics.checkpointsPostponed.increment()
                logger.warning("checkpoint postponed: \(producer.pendingCount) message(s) not yet acknowledged by the broker")
                return false
            }
        }
        if inFlight > 0 { FailPoint.hit("checkpoint.flushed") }
        let now = Clock.now()  // the producer is flushed
        // Gathered under the lock; written (and fsynced) by the writer, outside it, so that
        // queries go on meanwhile: they still see this checkpoint's closed results in
        // `pendingClosed` until the write is done.
        let (prepared, commits) = try lock.withLock {
            let parts = runtimes.flatMap { rt in
                let closed = rt.pendingClosed.beginCheckpoint()
                // Closed results are retained behind each shard's own watermark.
                func expireBefore(_ op: WindowOperator) -> Int64? { op.watermark.map { $0 - config.retention } }
                guard config.scaleOut else {
                    return [StateStore.Part(
                        op: rt.soleShard, closed: closed[-1] ?? ClosedResultsBatch(), expireBefore: expireBefore(rt.soleShard), offsets: rt.offsets,
                        stats: rt.stats)]
                }
                // Group mode: a part per shard, with its closed results and its changelog.
                return zip(rt.shards, rt.shardPartitions).map { shard in
                    StateStore.Part(
                        op: shard.0, shard: shard.1, closed: closed[shard.1] ?? ClosedResultsBatch(), expireBefore: expireBefore(shard.0),
                        offsets: [rt.topic: rt.next(Int(shard.1)) >= 0 ? [shard.1: rt.next(Int(shard.1))] : [:]],
                        stats: rt.stats, changelog: true, topic: rt.topic, routed: rt.isRouted ? rt.routedChange(shard: shard.1) : nil)
                }
            }
            // Group mode commits only the routers' source offsets, all routed events being
            // flushed, and under a group of their own (`routerOffsets`): the shards' offsets are
            // in their state, and a commit of a group member during a rebalance is refused and
            // costs it the assignment (docs/scale-out.md).
            var commits: [TopicPartitionOffset] = config.scaleOut ? routerCommits() : []
            for pipeline in pipelines where !config.scaleOut {
                for p in pipeline.partitions {
                    if let low = pipeline.lowestNext(p) { commits.append(TopicPartitionOffset(pipeline.topic, p, KafkaOffset(low))) }
                }
            }
            return (try store.prepare(parts, at: now), commits)
        }
        let presence = lock.withLock { registryRecord(now: now) }
        let preparedAt = Clock.nowMicros()
        writer.submit { [self] in
            // Group mode: the shards' changelogs are acknowledged before the local state is
            // written, so local state is never ahead of its changelog.
            if !prepared.changelogs.isEmpty || presence != nil {
                for log in prepared.changelogs {
                    let topic = changelogTopic(log.definition)
                    for record in log.records {
                        let m = record.encode(checkpoint: log.checkpoint)
                        try producer.produce(topic: topic, partition: log.partition, key: m.key, value: m.value, headers: m.headers)
                    }
                }
                if let presence, let registry { try producer.produce(topic: registry.topic, key: presence.key, value: presence.value) }
                try producer.flush(timeout: .milliseconds(config.flushTimeout))
                FailPoint.hit("checkpoint.changelog")
            }
            try store.write(prepared)
            FailPoint.hit("checkpoint.written")
            logger.debug("checkpoint: \(prepared.count) state entries, \(Clock.now() - started) ms (\(now - started) ms waiting for the producer, \((preparedAt - now * 1000) / 1000) ms preparing under the engine lock)")
            lock.withLock {
                // The closed results this checkpoint stored; the loop may have added more since.
                for rt in runtimes { rt.pendingClosed.written() }
                lastCheckpoint = now
            }
            if !commits.isEmpty {
                if let routerOffsets {
                    do { try routerOffsets.commit(commits, async: true) } catch { logger.warning("committing the routers' source offsets failed (\(error)): a router that moves routes more again, which the shards skip") }
                } else {
                    do { try consumer.commit(commits, async: true) } catch { logger.debug("offset commit (advisory) failed: \(error)") }
                }
            }
            FailPoint.hit("checkpoint.committed")
            for c in commits {
                if let (_, high) = consumer.cachedWatermarks(topic: c.topic, partition: c.partition) {
                    metrics.lag(topic: c.topic, partition: c.partition, max(0, high - c.offset.rawValue))
                }
            }
            metrics.checkpointDuration.recordMilliseconds(Clock.now() - started)
        }
        return true
    }
}

/// An error of the engine that stops it, with what to do about it.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    /// The message.
    public var description: String
    /// Makes one.
    public init(_ description: String) { self.description = description }
}
