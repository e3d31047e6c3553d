import Foundation
import Kafka
import Testing

/// The package root, from this file's path (Tests/KafkaTests/<file>).
private let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Reads stdout up to the first newline.
private func firstLine(of handle: FileHandle) -> String {
    var bytes: [UInt8] = []
    while true {
        let chunk = handle.readData(ofLength: 1)
        guard let byte = chunk.first, byte != 10 else { break }
        bytes.append(byte)
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The built `tally` executable.
private func tallyBinary() throws -> URL {
    let binary = packageRoot.appendingPathComponent(".build/debug/tally")
    try #require(
        FileManager.default.isExecutableFile(atPath: binary.path),
        "build the executable first (swift build)")
    return binary
}

/// Starts `tally broker` with `arguments`; returns the process and its printed address.
private func startBroker(_ arguments: [String]) throws -> (Process, String) {
    let process = Process()
    process.executableURL = try tallyBinary()
    process.arguments = ["broker"] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    return (process, firstLine(of: output.fileHandleForReading))
}

/// Produces 1000 messages and reads them back; the clients are gone when it returns, so they
/// do not complain when the broker stops.
private func roundTrip(through address: String) throws {
    let producer = try Producer(config: ["bootstrap.servers": address])
    #expect(try producer.partitionCount(topic: "orders") == 4)
    for i in 0..<1000 {
        try producer.produce(
            topic: "orders", key: Array("k\(i % 10)".utf8), value: Array("\(i)".utf8))
    }
    try producer.flush(timeout: .seconds(20))

    let consumer = try Consumer(config: ["bootstrap.servers": address, "group.id": "proc"])
    try consumer.assign((0..<4).map { TopicPartitionOffset("orders", $0, .beginning) })
    var values = Set<String>()
    try pollUntil(consumer) { batch in
        for message in batch { values.insert(message.payload.text) }
        return values.count == 1000
    }
    #expect(values.count == 1000)
}

@Test func brokerProcessServesClientsThroughItsPortAndStopsOnSigterm() throws {
    let (process, address) = try startBroker(["--port", "0", "--topic", "orders:4"])
    defer { if process.isRunning { process.terminate() } }
    #expect(address.hasPrefix("127.0.0.1:"))

    try roundTrip(through: address)

    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
}

@Test func produceCommandKeysEventsByDottedFieldAndSkipsEmptyLines() throws {
    let (broker, address) = try startBroker(["--topic", "events:2"])
    defer { if broker.isRunning { broker.terminate() } }
    let lines = [
        #"{"id":1,"customer":{"name":"x","id":"c\u00e9"}}"#,
        "",
        #"{"customer":{"tags":[1,{"id":"no"}],"id":42.5},"id":2}"#,
        #"{"id":3}"#,
    ]
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
        "produce-\(getpid()).jsonl")
    try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }

    let produce = Process()
    produce.executableURL = try tallyBinary()
    produce.arguments = [
        "produce", "--bootstrap", address, "--topic", "events", "--key-field", "customer.id",
        file.path,
    ]
    let errors = Pipe()
    produce.standardError = errors
    try produce.run()
    produce.waitUntilExit()
    let summary = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(produce.terminationStatus == 0)
    #expect(summary.hasPrefix("produced 3 events to events in "))

    let consumer = try Consumer(config: ["bootstrap.servers": address, "group.id": "keys"])
    try consumer.assign((0..<2).map { TopicPartitionOffset("events", $0, .beginning) })
    var keys: [String: String] = [:]  // event id -> key ("-" for none)
    try pollUntil(consumer) { batch in
        for message in batch {
            let id = ["1", "2", "3"].first { message.payload.text.contains("\"id\":\($0)") } ?? "?"
            keys[id] = message.key?.text ?? "-"
        }
        return keys.count == 3
    }
    #expect(keys == ["1": "c\u{e9}", "2": "42.5", "3": "-"])
}
