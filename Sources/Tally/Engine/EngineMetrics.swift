import Metrics

/// The engine's metrics through swift-metrics (exported by `/metrics` in Prometheus format).
/// Counters are kept in plain `RunStats` on the hot path and published as deltas once per loop
/// turn, so an event costs no metric update.
final class EngineMetrics: @unchecked Sendable {
    // Safe: only the loop thread calls `publish`; swift-metrics handlers are thread-safe.
    struct PerQuery {
        let counted, filtered, late, rejected, results, lost: Counter
        var rejectedBy: [RejectReason: Counter]
        let windowsOpen, watermark, stateBytes: Gauge
        let evicted: Counter
    }

    var perQuery: [String: PerQuery] = [:]
    let consumerErrors = Counter(label: "tally_consumer_errors_total")
    let checkpointsPostponed = Counter(label: "tally_checkpoints_postponed_total")
    let offsetRewinds = Counter(label: "tally_offset_rewinds_total")
    let checkpointDuration = Metrics.Timer(label: "tally_checkpoint_duration_seconds", preferredDisplayUnit: .seconds)
    /// From an event's Kafka timestamp (set when it was produced) to the moment the loop makes
    /// its batch visible to queries; sampled, at most `latencySamples` events per batch.
    let ingestLatency = Metrics.Timer(label: "tally_ingest_latency_seconds", preferredDisplayUnit: .seconds)
    static let latencySamples = 64
    var lagGauges: [String: Gauge] = [:]
    /// Group mode, per definition with `repartition`: events routed, routed records skipped as
    /// already counted, records of its repartition topic that Tally did not write.
    struct Repartition {
        let routed, duplicates, foreign: Counter
    }
    var repartition: [String: Repartition] = [:]

    init(definitions: [Definition]) {
        for d in definitions {
            let q = [("query", d.name)]
            perQuery[d.name] = PerQuery(
                counted: Counter(label: "tally_events_total", dimensions: q + [("outcome", "counted")]),
                filtered: Counter(label: "tally_events_total", dimensions: q + [("outcome", "filtered")]),
                late: Counter(label: "tally_events_total", dimensions: q + [("outcome", "late")]),
                rejected: Counter(label: "tally_events_total", dimensions: q + [("outcome", "rejected")]),
                results: Counter(label: "tally_results_emitted_total", dimensions: q),
                lost: Counter(label: "tally_lost_events_total", dimensions: q),
                rejectedBy: [:],
                windowsOpen: Gauge(label: "tally_window_slices_open", dimensions: q),
                watermark: Gauge(label: "tally_watermark_ms", dimensions: q),
                stateBytes: Gauge(label: "tally_state_memory_bytes", dimensions: q),
                evicted: Counter(label: "tally_spilled_accumulators_total", dimensions: q))
        }
    }

    func lostEvents(_ name: String) -> Counter { perQuery[name]!.lost }

    /// Publishes what changed since the last call.
    func publish(_ runtimes: [DefinitionRuntime]) {
        for rt in runtimes {
            let name = rt.definition.name
            guard var m = perQuery[name] else { continue }
            let s = rt.stats, p = rt.published
            if s.counted > p.counted { m.counted.increment(by: Int64(s.counted - p.counted)) }
            if s.filtered > p.filtered { m.filtered.increment(by: Int64(s.filtered - p.filtered)) }
            if s.late > p.late { m.late.increment(by: Int64(s.late - p.late)) }
            if s.rejected > p.rejected { m.rejected.increment(by: Int64(s.rejected - p.rejected)) }
            if s.emitted > p.emitted { m.results.increment(by: Int64(s.emitted - p.emitted)) }
            for (reason, n) in s.rejectedBy where n > p.rejectedBy[reason, default: 0] {
                if m.rejectedBy[reason] == nil {
                    m.rejectedBy[reason] = Counter(label: "tally_rejected_total", dimensions: [("query", name), ("reason", reason.rawValue)])
                    perQuery[name] = m
                }
                m.rejectedBy[reason]!.increment(by: Int64(n - p.rejectedBy[reason, default: 0]))
            }
            rt.published = s
            m.windowsOpen.record(rt.shards.reduce(0) { $0 + $1.liveAccumulators })
            m.stateBytes.record(rt.shards.reduce(0) { $0 + $1.estimatedBytes })
            let evicted = rt.shards.reduce(0) { $0 + $1.evictedTotal }
            if evicted > rt.publishedEvictions {
                m.evicted.increment(by: Int64(evicted - rt.publishedEvictions))
                rt.publishedEvictions = evicted
            }
            if let w = rt.watermark { m.watermark.record(w) }
        }
    }

    /// Records the consumer lag of one partition.
    func lag(topic: String, partition: Int32, _ value: Int64) {
        let id = "\(topic)/\(partition)"
        if lagGauges[id] == nil {
            lagGauges[id] = Gauge(label: "tally_consumer_lag", dimensions: [("topic", topic), ("partition", String(partition))])
        }
        lagGauges[id]!.record(value)
    }
}
