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

@Test func brokerProcessServesClientsThroughItsPortAndStopsOnSigterm() throws {
    let binary = packageRoot.appendingPathComponent(".build/debug/tally")
    try #require(
        FileManager.default.isExecutableFile(atPath: binary.path),
        "build the executable first (swift build)")
    let process = Process()
    process.executableURL = binary
    process.arguments = ["broker", "--port", "0", "--topic", "orders:4"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    defer { if process.isRunning { process.terminate() } }

    let address = firstLine(of: output.fileHandleForReading)
    #expect(address.hasPrefix("127.0.0.1:"))

    let producer = try Producer(config: ["bootstrap.servers": address])
    #expect(try producer.partitionCount(topic: "orders") == 4)
    for i in 0..<1000 {
        try producer.produce(topic: "orders", key: Array("k\(i % 10)".utf8), value: Array("\(i)".utf8))
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

    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 0)
}
