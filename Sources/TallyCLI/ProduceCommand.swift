import ArgumentParser
import Kafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tally produce`: loads a JSON Lines file into a topic.
struct ProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Load JSON Lines (one event per line) into a Kafka topic.",
        discussion: """
            Empty lines are skipped; every other line is sent as it is (not validated). With \
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
        let fd = file == "-" ? 0 : open(file, O_RDONLY)
        guard fd >= 0 else {
            throw CLIError("cannot open \(file): \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        let producer = try Producer(config: ["bootstrap.servers": bootstrap])
        let key = keyField.map(KeyField.init)
        let progress = Progress(topic: topic)
        var reader = LineReader(fd: fd)
        defer { reader.close() }
        try reader.forEachLine { line in
            guard line.contains(where: { $0 != 32 && $0 != 9 }) else { return }
            let keyBytes = key?.key(in: line)
            if let keyBytes {
                try keyBytes.withUnsafeBytes {
                    try producer.produce(topic: topic, partition: partition, key: $0, value: line)
                }
            } else {
                try producer.produce(topic: topic, partition: partition, key: nil, value: line)
            }
            progress.count += 1
            if progress.count % 1000 == 0 {
                producer.poll()
                progress.show()
            }
        }
        do {
            try producer.flush(timeout: .seconds(60))
        } catch {
            progress.finish()
            throw CLIError("\(error)")
        }
        progress.finish()
    }
}
