import Metrics
import Prometheus

/// The process's metrics: swift-metrics backed by one Prometheus registry, which `GET /metrics`
/// renders. The engine counts through swift-metrics (`Counter(label:)`) and never sees Prometheus.
public enum TallyMetrics {
    /// Bootstraps swift-metrics with a Prometheus factory on first use; later calls return the same
    /// registry. swift-metrics allows one bootstrap per process, so nothing else may call
    /// `MetricsSystem.bootstrap`.
    public static func bootstrap() -> PrometheusCollectorRegistry { registry }

    // A static let runs its initializer exactly once, even with concurrent first callers.
    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Ingest-to-queryable latency: sub-millisecond to seconds (a backlog being caught up).
        factory.durationHistogramBuckets["tally_ingest_latency_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
