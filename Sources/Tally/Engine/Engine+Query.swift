extension Engine: QueryService {
    public func health() -> HealthStatus {
        let status = lock.withLock { healthStatus }
        guard status.ready, let outage = monitor.withLock({ $0 })?.outage() else { return status }
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
            windowJSON: DefinitionJSON.window(rt.definition.window), watermark: rt.op.watermark,
            events: rt.stats.counted, filtered: rt.stats.filtered, late: rt.stats.late,
            rejectedBy: Dictionary(uniqueKeysWithValues: rt.stats.rejectedBy.map { ($0.key.rawValue, $0.value) }),
            lastCheckpoint: lastCheckpoint,
            partitions: pipelineByTopic[rt.definition.source]?.partitions ?? [],
            definitionJSON: DefinitionJSON.render(rt.definition))
    }

    public func windows(query name: String, key: [String], from: Int64?, to: Int64?) -> Result<KeyWindows, QueryError> {
        lock.withLock {
            guard let rt = runtime(named: name) else { return .failure(.unknownQuery(name)) }
            let arity = rt.definition.groupBy.count
            guard key.count == arity else { return .failure(.wrongKeyArity(expected: arity, got: key.count)) }
            if let from, let to, from > to { return .failure(.badParameter("from is after to")) }
            // URL values are text: try each as a string, then as a number or boolean where it reads as one.
            let candidates = key.map { v -> [GroupKey.Value] in
                var c: [GroupKey.Value] = [.string(v)]
                if let n = Double(v), n.isFinite { c.append(.number(n)) }
                if v == "true" || v == "false" { c.append(.bool(v == "true")) }
                return c
            }
            var combos: [[GroupKey.Value]] = [[]]
            for c in candidates { combos = combos.flatMap { prefix in c.map { prefix + [$0] } } }
            var best: (key: [UInt8], windows: [KeyWindows.Window])? = nil
            for combo in combos.prefix(64) {
                let bytes = GroupKey.encode(combo)
                let found = windows(rt, key: bytes, from: from, to: to)
                if best == nil || (!found.isEmpty && best!.windows.isEmpty) { best = (bytes, found) }
                if !found.isEmpty { break }
            }
            var keyJSON: [UInt8] = [0x7B]
            rt.encoder.appendKeyMembers(best!.key, into: &keyJSON)
            keyJSON.append(0x7D)
            return .success(KeyWindows(query: name, keyJSON: String(decoding: keyJSON, as: UTF8.self), windows: best!.windows))
        }
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
        if let closed = rt.op.closedThrough {
            let oldest = rt.op.watermark.map { $0 - config.retention } ?? closed
            let first = WindowMath.floorMultiple(max(from ?? oldest, oldest), slide)
            let last = min(to ?? closed, closed)
            if first <= last {
                for r in store.closedResults(rt.definition.name, key: key, width: rt.definition.aggregates.count, starts: stride(from: first, through: last, by: Int64.Stride(slide))) {
                    add(r.start, r.values, final: true)
                }
            }
        }
        for r in rt.pendingClosed where r.key == key { add(r.start, r.values, final: true) }
        for r in rt.op.openWindows(key: key, from: from, to: to) { add(r.start, r.values, final: false) }
        return byStart.keys.sorted().map { byStart[$0]! }
    }
}
