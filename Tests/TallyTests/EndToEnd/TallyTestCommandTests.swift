import Foundation
import Testing

/// Runs the real `tally test` binary over a generated dataset with disorder, late events and bad
/// lines, and compares every record with `ReferenceAggregator`.
@Suite struct TallyTestCommandTests {
    static let base: Int64 = 1_764_000_000_000

    /// Events ~20 ms apart with ±3 s of disorder, 1% very late, and every kind of bad line.
    static func dataset(count: Int, seed: UInt64, disorder: Int64 = 3000, veryLate: Bool = true) -> [String] {
        var rng = SplitMix(seed: seed)
        var lines: [String] = []
        let tiers = ["gold", "silver", "bronze"]
        for i in 0..<count {
            var t = base + Int64(i) * 20 + Int64.random(in: -disorder...disorder, using: &rng)
            if Int.random(in: 0..<100, using: &rng) == 0 && veryLate { t -= 400_000 }
            let type = ["OrderCreated", "OrderCreated", "OrderShipped"].randomElement(using: &rng)!
            let cust = Int.random(in: 0..<150, using: &rng)
            let totalText: String
            switch Int.random(in: 0..<40, using: &rng) {
            case 0: totalText = ",\"total\":null"
            case 1: totalText = ""
            default: totalText = ",\"total\":\(Double(Int.random(in: 100...50000, using: &rng)) / 100)"
            }
            let seconds = String(format: "%.3f", Double(t) / 1000)
            lines.append("{\"event_type\":\"\(type)\",\"customer_id\":\"c\(cust)\"\(totalText),\"ts\":\(t),\"ts_s\":\(seconds),\"customer\":{\"tier\":\"\(tiers[cust % 3])\"}}")
            if i % 500 == 250 {
                let bad = [
                    "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c1\",\"tot",
                    "[1,2,3]",
                    "{\"event_type\":\"OrderCreated\",\"total\":5,\"ts\":\(t),\"ts_s\":1}",
                    "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c2\",\"total\":\"12.5\",\"ts\":\(t),\"ts_s\":\(seconds),\"customer\":{\"tier\":\"gold\"}}",
                    "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c3\",\"total\":1,\"ts\":\"soon\",\"ts_s\":\"soon\"}",
                    "{\"event_type\":\"OrderCreated\",\"customer_id\":{\"id\":4},\"total\":1,\"ts\":\(t),\"ts_s\":\(seconds),\"customer\":[1]}",
                    "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c5\",\"total\":1}",
                    "\u{1}garbage",
                ]
                lines.append(bad[(i / 500) % bad.count])
            }
        }
        return lines
    }

    struct Case: Sendable, CustomStringConvertible {
        var definition: String
        var name: String
        var filterCreated: Bool
        var minTotal: Double?
        var groupBy: [String]
        var timeField: String
        var seconds: Bool
        var size: Int64, slide: Int64, grace: Int64
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(definition: """
            {"name":"tumbling_customer","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
             "groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
             "window":{"type":"tumbling","size":"1m","grace":"2s"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"with_total","fn":"count","field":"total"},
               {"name":"revenue","fn":"sum","field":"total"},{"name":"avg_total","fn":"avg","field":"total"},
               {"name":"min_total","fn":"min","field":"total"},{"name":"max_total","fn":"max","field":"total"}]}
            """, name: "tumbling_customer", filterCreated: true, minTotal: nil, groupBy: ["customer_id"],
            timeField: "ts", seconds: false, size: 60_000, slide: 60_000, grace: 2000),
        Case(definition: """
            {"name":"sliding_tier","source":"orders","where":[{"field":"total","op":"ge","value":10}],
             "groupBy":["customer.tier","customer_id"],"time":{"field":"ts_s","format":"epoch_s"},
             "window":{"type":"sliding","size":"5m","slide":"1m","grace":"5s"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"with_total","fn":"count","field":"total"},
               {"name":"revenue","fn":"sum","field":"total"},{"name":"avg_total","fn":"avg","field":"total"},
               {"name":"min_total","fn":"min","field":"total"},{"name":"max_total","fn":"max","field":"total"}]}
            """, name: "sliding_tier", filterCreated: false, minTotal: 10, groupBy: ["customer.tier", "customer_id"],
            timeField: "ts_s", seconds: true, size: 300_000, slide: 60_000, grace: 5000),
        Case(definition: """
            {"name":"sliding_global","source":"orders","groupBy":[],"time":{"field":"ts","format":"epoch_ms"},
             "window":{"type":"sliding","size":"60s","slide":"1s"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"with_total","fn":"count","field":"total"},
               {"name":"revenue","fn":"sum","field":"total"},{"name":"avg_total","fn":"avg","field":"total"},
               {"name":"min_total","fn":"min","field":"total"},{"name":"max_total","fn":"max","field":"total"}]}
            """, name: "sliding_global", filterCreated: false, minTotal: nil, groupBy: [],
            timeField: "ts", seconds: false, size: 60_000, slide: 1000, grace: 0),
    ]

    @Test(arguments: cases)
    func everyRecordMatchesThePlainReference(_ c: Case) async throws {
        try await onOwnThread { try Self().everyRecordMatchesThePlainReferenceBody(c) }
    }

    func everyRecordMatchesThePlainReferenceBody(_ c: Case) throws {
        let lines = Self.dataset(count: 30_000, seed: 42)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-e2e-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("events.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: input, atomically: true, encoding: .utf8)
        let def = dir.appendingPathComponent("\(c.name).json")
        try c.definition.write(to: def, atomically: true, encoding: .utf8)
        let dlq = dir.appendingPathComponent("dlq.jsonl")

        let run = try TallyBinary.run(["test", def.path, "--input", input.path, "--dead-letter", dlq.path])
        #expect(run.status == 0, "stderr: \(run.stderr)")

        var ref = ReferenceAggregator(.init(
            name: c.name,
            filter: { e in
                if c.filterCreated { return (e["event_type"] as? String) == "OrderCreated" }
                if let m = c.minTotal { return ReferenceAggregator.number(e["total"]).map { $0 >= m } ?? false }
                return true
            },
            groupBy: c.groupBy, timeField: c.timeField, timeInSeconds: c.seconds,
            size: c.size, slide: c.slide, grace: c.grace, numericField: "total"))
        for line in lines { ref.add(line) }

        // Every record: final, unique per (key, window), equal to the reference.
        var seen: Set<String> = []
        for line in run.stdout.split(separator: "\n") {
            let rec = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(rec["query"] as? String == c.name)
            #expect(rec["final"] as? Bool == true)
            let key = rec["key"] as! [String: Any]
            let keyText = c.groupBy.map { "\($0)=\(ReferenceAggregator.render(key[$0]!))" }.joined(separator: ",")
            let window = rec["window"] as! [String: Any]
            let start = (window["start"] as! NSNumber).int64Value
            #expect((window["end"] as! NSNumber).int64Value == start + c.size)
            let id = "\(keyText)|\(start)"
            #expect(seen.insert(id).inserted, "duplicate record \(id)")
            guard let acc = ref.windows[id] else {
                Issue.record("record \(id) not in the reference")
                continue
            }
            let v = rec["values"] as! [String: Any]
            #expect((v["n"] as! NSNumber).intValue == acc.events, "\(id)")
            #expect((v["with_total"] as! NSNumber).intValue == acc.present, "\(id)")
            if acc.present == 0 {
                #expect(v["revenue"] is NSNull && v["avg_total"] is NSNull && v["min_total"] is NSNull && v["max_total"] is NSNull)
            } else {
                let revenue = (v["revenue"] as! NSNumber).doubleValue
                #expect(abs(revenue - acc.sum) <= 1e-9 * max(1, abs(acc.sum)), "\(id): \(revenue) vs \(acc.sum)")
                let avg = (v["avg_total"] as! NSNumber).doubleValue
                #expect(abs(avg - acc.sum / Double(acc.present)) <= 1e-9 * max(1, abs(avg)), "\(id)")
                #expect((v["min_total"] as! NSNumber).doubleValue == acc.min, "\(id)")
                #expect((v["max_total"] as! NSNumber).doubleValue == acc.max, "\(id)")
            }
        }
        #expect(seen.count == ref.windows.count, "records \(seen.count), reference windows \(ref.windows.count)")

        // The stderr accounting: read = counted + filtered + late + rejected, equal to the reference.
        let summary = run.stderr
        func figure(_ label: String) -> Int? {
            guard let r = summary.range(of: "\(label) ") else { return nil }
            return Int(summary[r.upperBound...].prefix { $0.isNumber })
        }
        let read = figure("read"), counted = figure("counted"), filtered = figure("filtered")
        let late = figure("late"), rejected = figure("rejected")
        #expect(read == lines.count)
        #expect(read == (counted ?? -1) + (filtered ?? -1) + (late ?? -1) + (rejected ?? -1))
        #expect(counted == ref.outcomes["counted", default: 0])
        #expect(filtered == ref.outcomes["filtered", default: 0])
        #expect(late == ref.outcomes["late", default: 0])
        #expect((late ?? 0) > 0, "the dataset is built to have late events")
        let refRejected = ref.outcomes.filter { !["counted", "filtered", "late"].contains($0.key) }
        #expect(rejected == refRejected.values.reduce(0, +))
        for (reason, n) in refRejected {
            #expect(summary.contains("\(reason) \(n)"), "reason \(reason) \(n) in \(summary)")
        }

        // The dead-letter file holds exactly the late and rejected events, each with its reason.
        let dl = try String(contentsOf: dlq, encoding: .utf8).split(separator: "\n")
        #expect(dl.count == (late ?? 0) + (rejected ?? 0))
        var reasons: [String: Int] = [:]
        for l in dl {
            let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as! [String: Any]
            reasons[o["reason"] as! String, default: 0] += 1
        }
        #expect(reasons["late", default: 0] == late)
        for (reason, n) in refRejected { #expect(reasons[reason] == n, "\(reason)") }
    }

    @Test func checkExitsNonZeroAndPrintsEveryProblem() async throws {
        try await onOwnThread { try Self().checkExitsNonZeroAndPrintsEveryProblemBody() }
    }

    func checkExitsNonZeroAndPrintsEveryProblemBody() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-check-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try #"{"name":"ok_name","source":"s","groupBy":"customer","window":{"type":"tumbling","size":"1m"},"aggregates":[{"name":"n","fn":"count"}]}"#
            .write(to: bad, atomically: true, encoding: .utf8)
        let r = try TallyBinary.run(["check", bad.path])
        #expect(r.status != 0)
        #expect(r.stdout.contains("\(bad.path): $.groupBy: \"customer\" is not a list (expected a list of field paths like [\"customer_id\"])"))
        let good = try TallyBinary.run(["check", TallyBinary.packageRoot.appendingPathComponent("queries").path])
        #expect(good.status == 0, "\(good.stdout)")
    }
}
