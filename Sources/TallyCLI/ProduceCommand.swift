import ArgumentParser

/// `tally produce`: loads a JSON Lines file into a topic.
struct ProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Load JSON Lines (one event per line) into a Kafka topic.",
        discussion: """
            Blank lines are skipped; every other line is sent as it is (not validated). With \
            --key-field, the message key is that field's value (dotted paths reach nested \
            objects): a string as is, a number as its JSON text; events without it get no key. \
            Batches are zstd-compressed. Exits non-zero if any event was not delivered.
            """)

    @Option(help: "Broker address, HOST:PORT.")
    var bootstrap: String

    @Option(help: "Topic to write to.")
    var topic: String

    @Option(name: .customLong("key-field"), help: "Field whose value becomes the message key.")
    var keyField: String?

    @Option(help: "Send every event to this partition instead of partitioning by key.")
    var partition: Int32?

    @Argument(help: "JSON Lines file, or - for standard input.")
    var file: String

    func run() throws {
        _ = try JSONLinesLoader.load(
            path: file, topics: [topic], keyField: keyField, partition: partition, bootstrap: bootstrap,
            progress: Progress(topic: topic))
    }
}
