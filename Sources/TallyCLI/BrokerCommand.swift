import ArgumentParser
import Kafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tally broker`: librdkafka's mock cluster in its own process, for development and tests.
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a local in-memory Kafka-protocol broker until SIGINT/SIGTERM.",
        discussion: """
            Prints the bootstrap address (127.0.0.1:PORT) as the first line on stdout. \
            Without --port the broker's own ephemeral port is used; with --port (0 = any free \
            port) a forwarder listens there, and clients then follow the broker's advertised \
            127.0.0.1 address, so clients must run on this machine. Data lives in memory: at \
            most about 5 MiB and 100k batches per partition are kept.
            """)

    @Option(help: "Port to listen on (0 picks a free one); default: the broker's own port.")
    var port: Int?

    @Option(name: .customLong("topic"), help: "Create a topic: NAME:PARTITIONS (repeatable).")
    var topics: [TopicSpec] = []

    func validate() throws {
        if let port, !(0...65535).contains(port) {
            throw ValidationError("--port must be between 0 and 65535")
        }
    }

    func run() throws {
        SignalWaiter.install()
        let cluster = try MockCluster(port: port)
        for topic in topics { try cluster.createTopic(topic.name, partitions: topic.partitions) }
        print(cluster.bootstrapServers)
        fflush(nil)  // the first line is how scripts learn the address: don't leave it buffered
        SignalWaiter.wait()
        withExtendedLifetime(cluster) {}
    }
}
