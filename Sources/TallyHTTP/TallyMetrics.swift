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
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
