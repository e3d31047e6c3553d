import Foundation
import Testing

/// `tally run --memory-budget` with far more state than the budget: a real broker, a real
/// RocksDB folder, a kill in the middle, and the output compared with the plain reference.
@Suite(.serialized) struct SpillEndToEndTests {
    /// The live suite's definition over one-hour windows: every customer's accumulator stays
    /// in memory (or spilled) until the end, ~4 MB of state; one result per customer and window
    /// keeps the output inside what the mock broker holds per partition.
    static let definition = LiveEngineTests.definition.replacingOccurrences(
        of: #""window":{"type":"tumbling","size":"1m","grace":"2s"}"#,
        with: #""window":{"type":"tumbling","size":"1h","grace":"2s"}"#)

    /// 30k orders of 15k customers, 20 ms apart with a little disorder, then one far ahead.
    static func lines() -> [String] {
        var rng = SplitMix(seed: 17)
        var out: [String] = []
        for i in 0..<30_000 {
            let t = TallyTestCommandTests.base + Int64(i) * 20 + Int64(rng.int(0...1500))
            let type = rng.chance(0.8) ? "OrderCreated" : "OrderShipped"
            let total = rng.chance(0.05) ? "" : #","total":\#(Double(rng.int(100...50_000)) / 100)"#
            out.append(#"{"event_type":"\#(type)","customer_id":"c\#(rng.below(15_000))"\#(total),"ts":\#(t)}"#)
        }
        out.append(#"{"event_type":"Flush","customer_id":"c0","ts":\#(TallyTestCommandTests.base + 10_000_000)}"#)
        return out
    }

    @Test func underABudgetFarBelowTheStateTheOutputEqualsTheReferenceAcrossAKill() async throws {
        try await onOwnThread { try Self.killedAndRestartedUnderABudget() }
    }

    static func killedAndRestartedUnderABudget() throws {
        #expect(Self.definition != LiveEngineTests.definition)
        let setup = try LiveEngineTests.Setup()
        let definitionPath = setup.dir.url.appendingPathComponent("spill.json").path
        try Self.definition.write(toFile: definitionPath, atomically: true, encoding: .utf8)
        let lines = Self.lines()
        var ref = ReferenceAggregator(.init(
            name: "live", filter: { ($0["event_type"] as? String) == "OrderCreated" },
            groupBy: ["customer_id"], timeField: "ts", timeInSeconds: false,
            size: 3_600_000, slide: 3_600_000, grace: 2000, numericField: "total"))
        for l in lines { ref.add(l) }
        let budget = ["--memory-budget", "1MB"]

        try setup.produce(Array(lines.prefix(20_000)), name: "first")
        var engine = try setup.engine("engine0", extra: budget, definition: definitionPath)
        // Killed once it has spilled (at a checkpoint after its first batch).
        let deadline = Date().addingTimeInterval(60)
        var spilledBefore = -1
        while spilledBefore <= 0 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            spilledBefore = (try? Self.spilled(port: setup.http)) ?? -1
        }
        engine.signal(SIGKILL)
        #expect(engine.wait() != nil)
        #expect(spilledBefore > 0, "accumulators spilled before the kill: \(spilledBefore)")

        // The rest without the closing event first, so that the restarted engine spills too
        // before the window closes (in one batch with it, the window could close unspilled).
        try setup.produce(Array(lines[20_000..<(lines.count - 1)]), name: "second")
        engine = try setup.engine("engine1", extra: budget, definition: definitionPath)
        var spilledAfter = -1
        while spilledAfter <= 0 && Date() < deadline.addingTimeInterval(60) {
            Thread.sleep(forTimeInterval: 0.05)
            spilledAfter = (try? Self.spilled(port: setup.http)) ?? -1
        }
        #expect(spilledAfter > 0, "accumulators spilled after the restart: \(spilledAfter)")
        try setup.produce([lines[lines.count - 1]], name: "flush")
        let records = try setup.output(expected: ref.closedWindows.count)
        try LiveEngineTests.verify(records, ref)
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0, "stderr: \(engine.stderr)")
    }

    /// `tally test --memory-budget` spills the same way: the output equals the reference for a
    /// tumbling and a sliding window, and the summary says how much spilled.
    @Test(arguments: [
        #""window":{"type":"tumbling","size":"1h","grace":"2s"}"#, #""window":{"type":"sliding","size":"10m","slide":"1m","grace":"2s"}"#,
    ])
    func tallyTestUnderABudgetEqualsTheReference(_ window: String) async throws {
        try await onOwnThread { try Self.tallyTestUnderABudget(window) }
    }

    static func tallyTestUnderABudget(_ window: String) throws {
        let dir = try TemporaryFolder("tally-spill-test")
        let definition = LiveEngineTests.definition.replacingOccurrences(
            of: #""window":{"type":"tumbling","size":"1m","grace":"2s"}"#, with: window)
        let sliding = window.contains("sliding")
        let definitionPath = dir.url.appendingPathComponent("spill.json").path
        try definition.write(toFile: definitionPath, atomically: true, encoding: .utf8)
        let lines = Self.lines()
        let input = dir.url.appendingPathComponent("events.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        var ref = ReferenceAggregator(.init(
            name: "live", filter: { ($0["event_type"] as? String) == "OrderCreated" },
            groupBy: ["customer_id"], timeField: "ts", timeInSeconds: false,
            size: sliding ? 600_000 : 3_600_000, slide: sliding ? 60_000 : 3_600_000, grace: 2000, numericField: "total"))
        for l in lines { ref.add(l) }

        let state = dir.url.appendingPathComponent("state").path
        let run = try TallyBinary.run(["test", definitionPath, "--input", input, "--memory-budget", "256KB", "--state", state])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let spilled = run.stderr.split(separator: "\n").first { $0.hasSuffix("accumulators spilled") }
            .flatMap { Int($0.split(separator: " ").dropLast(2).last ?? "") } ?? 0
        #expect(spilled > 10_000, "stderr: \(run.stderr)")
        let records = run.stdout.split(separator: "\n").map { line in
            TopicReader.Record(key: String(line), value: String(line), headers: [:])
        }
        try LiveEngineTests.verify(records, ref)
    }

    /// `tally_spilled_accumulators_total` from /metrics.
    static func spilled(port: Int) throws -> Int {
        let text = try String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("tally_spilled_accumulators_total") {
            return Int(Double(line.split(separator: " ").last ?? "") ?? -1)
        }
        return -1
    }
}
