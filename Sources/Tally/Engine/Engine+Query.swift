extension Engine: QueryService {
    public func health() -> HealthStatus {
        let status = lock.withLock { healthStatus }
        guard status.ready, let outage = monitor.withLock({ $0 })?.report(now: Clock.now()) else { return status }
        return HealthStatus(
            status: "degraded", ready: false,
            detail: "broker unreachable for \((Clock.now() - outage.since) / 1000) s: \(outage.error)")
    }

    public func queries() -> [QueryStatus] {
        lock.withLock { runtimes.map(status) }
    }

    public func query(named name: String) -> QueryStatus? {
        lock.withLock { runtime(named: name).map(status) }
    }

    func runtime(named name: String) -> DefinitionRuntime? {
        runtimes.first { $0.definition.name == name }
    }

    func status(_ rt: DefinitionRuntime) -> QueryStatus {
        QueryStatus(
            name: rt.definition.name, source: rt.definition.source,
            windowJSON: DefinitionJSON.window(rt.definition.window), watermark: rt.watermark,
            events: rt.stats.counted, filtered: rt.stats.filtered, late: rt.stats.late,
            rejectedBy: Dictionary(uniqueKeysWithValues: rt.stats.rejectedBy.map { ($0.key.rawValue, $0.value) }),
            lastCheckpoint: lastCheckpoint,
            partitions: pipelineByTopic[rt.topic]?.partitions ?? [],
            definitionJSON: DefinitionJSON.render(rt.definition), instances: instances(of: rt.topic))
    }

    public func windows(query name: String, key: [String], from: Int64?, to: Int64?) -> Result<KeyWindows, QueryError> {
        lock.withLock {
            guard let rt = runtime(named: name) else { return .failure(.unknownQuery(name)) }
            let arity = rt.definition.groupBy.count
            guard key.count == arity else { return .failure(.wrongKeyArity(expected: arity, got: key.count)) }
            if let from, let to, from > to { return .failure(.badParameter("from is after to")) }
            for op in rt.shards {
                guard let span = closedSpan(op, from: from, to: to) else { continue }
                let count = (span.last - span.first) / rt.definition.window.slide + 1
                if count > Self.maxWindowsPerRequest {
                    return .failure(.badParameter("the range holds \(count) windows, at most \(Self.maxWindowsPerRequest) per request: narrow it with from and to"))
                }
            }
            var best: (key: [UInt8], windows: [KeyWindows.Window])? = nil
            for combo in Self.keyCandidates(key) {
                let bytes = GroupKey.encode(combo)
                let found = windows(rt, key: bytes, from: from, to: to)
                if best == nil || (!found.isEmpty && best!.windows.isEmpty) { best = (bytes, found) }
                if !found.isEmpty { break }
            }
            if let failure = store.spillFailure() { return .failure(.unavailable(failure)) }
            var keyJSON: [UInt8] = [0x7B]
            rt.encoder.appendKeyMembers(best!.key, into: &keyJSON)
            keyJSON.append(0x7D)
            return .success(KeyWindows(query: name, keyJSON: String(decoding: keyJSON, as: UTF8.self), windows: best!.windows))
        }
    }

    /// The group keys URL values may stand for, at most 64: each value as a string, then as a
    /// number or boolean where it reads as one (URL values are text).
    static func keyCandidates(_ key: [String]) -> ArraySlice<[GroupKey.Value]> {
        let candidates = key.map { v -> [GroupKey.Value] in
            var c: [GroupKey.Value] = [.string(v)]
            if let n = Double(v), n.isFinite { c.append(.number(n)) }
            if v == "true" || v == "false" { c.append(.bool(v == "true")) }
            return c
        }
        var combos: [[GroupKey.Value]] = [[]]
        for c in candidates { combos = combos.flatMap { prefix in c.map { prefix + [$0] } } }
        return combos.prefix(64)
    }

    /// Most closed windows one key request may read (one store read each): without `from` the
    /// latest ones; a `from`/`to` range holding more is refused.
    static let maxWindowsPerRequest: Int64 = 10_000

    /// First and last start of one shard's retained closed windows within `from`...`to`, if
    /// any: each shard closes and retains windows at its own watermark.
    func closedSpan(_ op: WindowOperator, from: Int64?, to: Int64?) -> (first: Int64, last: Int64)? {
        guard let closed = op.closedThrough else { return nil }
        let slide = op.definition.window.slide
        let oldest = op.watermark.map { $0 - config.retention } ?? closed
        let last = min(to ?? closed, closed)
        // Without `from`, the latest windows only: one request reads at most a page of them.
        let earliest = from ?? (last - (Self.maxWindowsPerRequest - 1) * slide)
        let first = WindowMath.floorMultiple(max(earliest, oldest), slide)
        return first <= last ? (first, last) : nil
    }

    /// Open windows from memory, closed ones from results not yet checkpointed and from the store.
    func windows(_ rt: DefinitionRuntime, key: [UInt8], from: Int64?, to: Int64?) -> [KeyWindows.Window] {
        var byStart: [Int64: KeyWindows.Window] = [:]
        let size = rt.definition.window.size, slide = rt.definition.window.slide
        func add(_ start: Int64, _ values: [Double?], final: Bool) {
            if let from, start < from { return }
            if let to, start > to { return }
            var v: [UInt8] = [0x7B]
            rt.encoder.appendValueMembers(values, into: &v)
            v.append(0x7D)
            byStart[start] = KeyWindows.Window(start: start, end: start + size, isFinal: final, valuesJSON: String(decoding: v, as: UTF8.self))
        }
        // Group mode: each owned shard keeps the closed results of its keys.
        for (i, op) in rt.shards.enumerated() {
            guard let span = closedSpan(op, from: from, to: to) else { continue }
            let starts = stride(from: span.first, through: span.last, by: Int64.Stride(slide))
            let shard: Int32? = rt.isSharded ? rt.shardPartitions[i] : nil
            for r in store.closedResults(rt.definition.name, shard: shard, key: key, width: rt.definition.aggregates.count, starts: starts) {
                add(r.start, r.values, final: true)
            }
        }
        for r in rt.pendingClosed.results(of: key) { add(r.start, r.values, final: true) }
        for op in rt.shards {
            for r in op.openWindows(key: key, from: from, to: to) { add(r.start, r.values, final: false) }
        }
        return byStart.keys.sorted().map { byStart[$0]! }
    }
}
