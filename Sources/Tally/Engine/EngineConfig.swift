/// How `tally run` runs: where Kafka and the state are, and the engine's timings.
public struct EngineConfig: Sendable {
    /// Kafka bootstrap servers.
    public var bootstrap: String
    /// Consumer group id (offsets are committed there for lag monitoring; restart trusts the state).
    public var group = "tally"
    /// State folder.
    public var statePath = ".tally"
    /// Time between checkpoints, ms.
    public var checkpointInterval: Int64 = 1000
    /// A partition silent this long stops holding the watermark back, ms.
    public var idleTimeout: Int64 = 10_000
    /// How long closed windows stay queryable after they close (by event time), ms.
    public var retention: Int64 = 3_600_000
    /// Definitions whose stored state is discarded at start.
    public var resetState: Set<String> = []
    /// Time between broker probes, ms (see `BrokerMonitor`).
    public var brokerProbeInterval: Int64 = 1000
    /// Longest wait of a checkpoint for the producer, ms; past it the checkpoint is postponed.
    public var flushTimeout: Int64 = 10_000
    /// Bytes of window state kept in memory, shared equally by the definitions; past it, a
    /// checkpoint spills accumulators to RocksDB (nil: no limit).
    public var memoryBudget: Int?
    /// Most messages taken per poll.
    public var batchSize = 20_000
    /// Group mode (`tally run --scale-out`): instances with the same `group` share the source
    /// partitions through Kafka's group protocol; each owned partition is a shard whose state also
    /// goes to the changelog topic `<group>-<definition>-changelog` (docs/scale-out.md).
    public var scaleOut = false
    /// Group mode: the HTTP address the other instances reach this one at (published in
    /// `<group>-instances`; nil: not published, so key queries are not forwarded here).
    public var advertisedHTTP: String?
    /// Extra librdkafka consumer properties.
    public var consumerConfig: [String: String] = [:]
    /// Extra librdkafka producer properties.
    public var producerConfig: [String: String] = [:]

    /// A configuration for `bootstrap` with the defaults.
    public init(bootstrap: String) { self.bootstrap = bootstrap }
}
