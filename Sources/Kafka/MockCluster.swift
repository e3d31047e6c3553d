import CRdKafka

/// An in-process Kafka cluster: librdkafka's mock broker, for development and tests.
///
/// The port: librdkafka 2.0.2's mock brokers always listen on an ephemeral port of 127.0.0.1
/// (the listener is bound to port 0; no property chooses it), and their metadata advertises
/// exactly that `127.0.0.1:<ephemeral>` address. So when a fixed `port` is asked for, a small
/// TCP forwarder (`PortForwarder`) listens on `127.0.0.1:port` and relays each connection to the
/// mock broker. That is enough for any client on this machine: it bootstraps through the
/// forwarder, learns the advertised ephemeral address from metadata, and then talks to the mock
/// broker directly (checked with kcat and with our Producer and Consumer). It would not do for
/// clients in another network namespace, which cannot reach the advertised address.
///
/// Data lives in memory and the broker keeps at most about 5 MiB and 100k batches per
/// partition, silently dropping older data: produce compressed batches.
///
/// Safe to share (`@unchecked Sendable`): the mock API only posts operations to the mock
/// cluster's own thread, and this class holds no mutable Swift state.
public final class MockCluster: @unchecked Sendable {
    private let client: KafkaClient
    private let cluster: OpaquePointer
    private let forwarder: PortForwarder?
    /// The address clients bootstrap from, `127.0.0.1:<port>`.
    public let bootstrapServers: String

    /// Starts `brokers` mock brokers; with `port`, clients reach them through `127.0.0.1:port`
    /// (0 picks a free port), otherwise through the mock's own ephemeral port.
    public init(brokers: Int = 1, port: Int? = nil) throws {
        // The mock needs an rd_kafka_t for bookkeeping; a producer handle with no bootstrap
        // servers is the lightest. Its notice about that is silenced with log_level 4.
        let conf = try KafkaConfig.make(["log_level": "4"], for: "create mock cluster")
        client = try KafkaClient(RD_KAFKA_PRODUCER, conf: conf, operation: "create mock cluster")
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError("create mock cluster", "rd_kafka_mock_cluster_new failed")
        }
        self.cluster = cluster
        let mockAddress = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        if let port {
            do {
                let forwarder = try PortForwarder(
                    port: port, target: Self.firstAddress(mockAddress))
                self.forwarder = forwarder
                bootstrapServers = "127.0.0.1:\(forwarder.port)"
            } catch {
                rd_kafka_mock_cluster_destroy(cluster)
                throw error
            }
        } else {
            forwarder = nil
            bootstrapServers = mockAddress
        }
    }

    deinit {
        forwarder?.stop()
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// Creates `name` with `partitions` partitions (replication factor 1).
    public func createTopic(_ name: String, partitions: Int) throws {
        try KafkaError.check(
            rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1),
            "create topic \(name)")
    }

    /// Host and port of the first broker in a bootstrap list.
    private static func firstAddress(_ list: String) throws -> (host: String, port: Int) {
        let first = list.split(separator: ",").first.map(String.init) ?? list
        guard let colon = first.lastIndex(of: ":"),
            let port = Int(first[first.index(after: colon)...])
        else { throw KafkaError("create mock cluster", "unexpected bootstrap list \(list)") }
        return (String(first[..<colon]), port)
    }
}
