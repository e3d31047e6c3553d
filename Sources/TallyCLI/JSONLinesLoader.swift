import Kafka
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads a JSON Lines file (or stdin for `-`) into Kafka topics, one message per non-empty line,
/// batched and compressed; keyed by a top-level or dotted field when one is given.
enum JSONLinesLoader {
    /// Produces every line to each of `topics`; returns the number of lines.
    static func load(path: String, topics: [String], keyField: String?, bootstrap: String, progress: Bool) throws -> Int {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard fd >= 0 else { throw EngineError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        let producer = try Producer(config: ["bootstrap.servers": bootstrap])
        var plan = FieldPlan()
        let keySlot = keyField.flatMap(FieldPath.init).map { plan.slot(for: $0) }
        let scanner = EventScanner(plan: plan)
        var count = 0
        var key: [UInt8] = []
        let started = Clock.milliseconds()
        var lastReport = started
        try LineReader(fd: fd).forEachLine { line in
            if line.isEmpty { return }
            var hasKey = false
            if let keySlot {
                key.removeAll(keepingCapacity: true)
                scanner.scan(line) { _, view in
                    let v = view[keySlot]
                    switch v.kind {
                    case .string: key += view.bytes(of: v); hasKey = true
                    case .number: JSONWriter.appendNumber(v.number, to: &key); hasKey = true
                    case .bool: key += Array((v.number != 0 ? "true" : "false").utf8); hasKey = true
                    default: break
                    }
                }
            }
            for t in topics {
                if hasKey {
                    try key.withUnsafeBytes { try producer.produce(topic: t, key: $0, value: line) }
                } else {
                    try producer.produce(topic: t, key: nil, value: line)
                }
            }
            count += 1
            if count % 10_000 == 0 {
                producer.poll()
                let now = Clock.milliseconds()
                if progress && now - lastReport >= 250 {
                    lastReport = now
                    let rate = Double(count) / max(Double(now - started) / 1000, 0.001)
                    printError("\r\(count) events, \(Int(rate)) events/s", newline: false)
                }
            }
        }
        try producer.flush(timeout: .seconds(120))
        if progress { printError("") }
        return count
    }
}

enum Clock {
    static func milliseconds() -> Int64 { OfflineRunner.wallClockMilliseconds() }
}
