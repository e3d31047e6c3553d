import Kafka
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads a JSON Lines file (or stdin for `-`) into Kafka topics, one message per line that is not
/// blank, batched and compressed (the producer's defaults); keyed by a top-level or dotted field
/// when one is given (a string as is, a number or boolean as JSON text; no key when absent), or
/// spread round-robin over the partitions with `roundRobin` (so every partition moves its watermark).
/// Used by `tally produce` and `tally run --replay`.
enum JSONLinesLoader {
    /// Produces every line to each of `topics`; returns the number of lines.
    static func load(
        path: String, topics: [String], keyField: String?, partition: Int32? = nil, roundRobin: Bool = false,
        bootstrap: String, progress: Progress? = nil
    ) throws -> Int {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        let producer = try Producer(config: ["bootstrap.servers": bootstrap])
        var plan = FieldPlan()
        let keySlot = keyField.flatMap(FieldPath.init).map { plan.slot(for: $0) }
        let scanner = EventScanner(plan: plan)
        let partitionCounts = roundRobin ? try topics.map { try producer.partitionCount(topic: $0) } : []
        var count = 0
        var key: [UInt8] = []
        try LineReader(fd: fd).forEachLine { line in
            guard line.contains(where: { $0 != 32 && $0 != 9 }) else { return }
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
            for (i, t) in topics.enumerated() {
                let p = roundRobin ? Int32(count % partitionCounts[i]) : partition
                if hasKey {
                    try key.withUnsafeBytes { try producer.produce(topic: t, partition: p, key: $0, value: line) }
                } else {
                    try producer.produce(topic: t, partition: p, key: nil, value: line)
                }
            }
            count += 1
            if count % 1000 == 0 {
                producer.poll()
                progress?.count = count
                progress?.show()
            }
        }
        progress?.count = count
        do {
            try producer.flush(timeout: .seconds(120))
        } catch {
            progress?.finish()
            throw CLIError("\(error)")
        }
        progress?.finish()
        return count
    }
}
