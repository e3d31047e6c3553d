import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The spill step's workload: orders of distinct customers (`s0`, `s1`, …) in one tumbling hour,
/// so that every key's window stays open until the end, and the check of `tally test`'s results
/// against what was generated.
enum BenchSpill {
    static let definition = """
        {
          "name": "spill_agg",
          "source": "bench_spill",
          "groupBy": ["customer_id"],
          "time": {"field": "timestamp", "format": "epoch_ms"},
          "window": {"type": "tumbling", "size": "1h"},
          "aggregates": [
            {"name": "orders", "fn": "count"},
            {"name": "revenue", "fn": "sum", "field": "total"}
          ]
        }
        """

    /// Writes `count` orders, customer `s<i>` ordering once for a total of `cents[i]` / 100, all
    /// in the first 50 minutes of the hour from 2025-11-24T16:00Z; returns `cents`.
    static func writeOrders(count: Int, to path: String, seed: UInt64 = 13) throws -> [Int32] {
        var rng = SplitMix64(seed: seed)
        var cents: [Int32] = []
        cents.reserveCapacity(count)
        try BenchWorkload.write(path) { out in
            for i in 0..<count {
                let c = 100 + rng.next(49_901)
                cents.append(Int32(c))
                let ts = 1_764_000_000_000 + Int64(i % 3_000_000)
                out.append(#"{"customer_id":"s\#(i)","total":\#(BenchWorkload.decimal(c)),"timestamp":\#(ts)}"#)
            }
        }
        return cents
    }
}

/// Checks result records of `BenchSpill.definition` against the generated orders: one record per
/// customer, with `orders` 1 and `revenue` its total. Lines that are not records (the run's
/// summary on stderr, in the same file) are skipped.
struct SpillCheck {
    let cents: [Int32]
    private var seen: [Bool]
    private(set) var records = 0
    /// The first problem found, if any.
    private(set) var problem: String?
    private let scanner: EventScanner
    private let keySlot: Int, ordersSlot: Int, revenueSlot: Int

    init(cents: [Int32]) {
        self.cents = cents
        seen = [Bool](repeating: false, count: cents.count)
        var plan = FieldPlan()
        keySlot = plan.slot(for: FieldPath("key.customer_id")!)
        ordersSlot = plan.slot(for: FieldPath("values.orders")!)
        revenueSlot = plan.slot(for: FieldPath("values.revenue")!)
        scanner = EventScanner(plan: plan)
    }

    mutating func add(_ line: UnsafeRawBufferPointer) {
        guard problem == nil, line.first == UInt8(ascii: "{") else { return }
        let (keySlot, ordersSlot, revenueSlot) = (keySlot, ordersSlot, revenueSlot)
        let found: (key: String?, orders: Double?, revenue: Double?) = scanner.scan(line) { outcome, view in
            guard outcome == .object else { return (nil, nil, nil) }
            let number = { (slot: Int) -> Double? in view[slot].kind == .number ? view[slot].number : nil }
            return (view.string(keySlot), number(ordersSlot), number(revenueSlot))
        }
        records += 1
        let text = { String(decoding: line, as: UTF8.self) }
        guard let key = found.key, key.first == "s", let i = Int(key.dropFirst()), i >= 0, i < cents.count else {
            problem = "unexpected record \(text())"
            return
        }
        guard !seen[i] else {
            problem = "customer \(key) twice"
            return
        }
        seen[i] = true
        let want = Double(cents[i]) / 100
        guard found.orders == 1, let revenue = found.revenue, abs(revenue - want) <= 1e-9 * max(1, want) else {
            problem = "record of \(key) differs: \(text()), expected orders 1, revenue \(want)"
            return
        }
    }

    /// Nil when every customer had exactly its record; otherwise what was wrong first.
    func difference() -> String? {
        if let problem { return problem }
        if records != cents.count { return "\(records) records, expected \(cents.count)" }
        return nil
    }
}

extension BenchRun {
    /// `tally test` as a child process over `keys` orders of distinct customers under
    /// `--memory-budget budget`: time, peak RSS and accumulators spilled (one run: ten million
    /// keys take minutes), and every result checked against the generated orders.
    func spill(keys: Int, budget: String) throws {
        let input = folder + "/spill.jsonl", output = folder + "/spill-results.jsonl"
        let definitionFile = folder + "/spill.json"
        defer { unlink(input); unlink(output) }
        status("generating \(format(keys)) orders of distinct customers")
        let cents = try BenchSpill.writeOrders(count: keys, to: input)
        try writeFile(definitionFile, BenchSpill.definition)
        status("tally test over \(format(keys)) keys with --memory-budget \(budget)")
        unlink(output)
        let started = ContinuousClock.now
        let child = try Subprocess(["test", definitionFile, "--input", input, "--memory-budget", budget], output: output)
        let ended = child.wait(samplingPeak: true)
        let seconds = Self.seconds(since: started)
        guard ended.status == 0 else { throw CLIError("tally test --memory-budget \(budget) exited with \(ended.status) (output: \(output))") }
        status("checking \(format(keys)) results")
        var check = SpillCheck(cents: cents)
        var spilled = "?"
        let fd = open(output, O_RDONLY)
        guard fd >= 0 else { throw CLIError("cannot open \(output)") }
        defer { close(fd) }
        try LineReader(fd: fd).forEachLine { line in
            let text = line.first == UInt8(ascii: "{") ? nil : String(decoding: line, as: UTF8.self)
            if let text, let r = text.firstRange(of: " accumulators spilled") {
                spilled = text[..<r.lowerBound].split(separator: " ").last.flatMap { Int($0) }.map(format) ?? "?"
            }
            check.add(line)
        }
        if let difference = check.difference() { throw CLIError("spill results: \(difference)") }
        let label = "spill \(format(keys)) keys, --memory-budget \(budget)"
        rows.append(("\(label): peak RSS (MB)", "\(ended.peakRSS >> 20)", "one run; \(spilled) accumulators spilled"))
        rows.append(("\(label): time (s)", String(format1: seconds), ""))
        rows.append(("\(label): results", "exact", "\(format(keys)) windows checked"))
    }
}
