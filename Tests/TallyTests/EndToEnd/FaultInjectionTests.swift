import Foundation
import Testing

/// SPEC §6 under fire: a workload streams into `tally broker` while `tally run` processes it, and
/// the engine is SIGKILLed again and again, from outside at random moments and from inside at
/// each failpoint (start-up, after restore, after a poll, after emitting, at each step of a
/// checkpoint). At the end every final result of two definitions equals the plain reference
/// (identical duplicates allowed), the dead-letter topics hold exactly the bad and late events,
/// and per definition read = counted + filtered + late + rejected.
///
/// Short form by default (CI). Long form by hand, see `scripts/fault-harness.sh`:
/// `TALLY_FAULT_EVENTS=1000000 TALLY_FAULT_KILLS=100`. One source partition keeps lateness and
/// float sums independent of restarts (with several partitions the processing order, and so
/// lateness, can differ between any two runs, killed or not).
@Suite(.serialized) struct FaultInjectionTests {
    static let environment = ProcessInfo.processInfo.environment
    static let eventCount = Int(environment["TALLY_FAULT_EVENTS"] ?? "") ?? 24_000
    static let killCount = Int(environment["TALLY_FAULT_KILLS"] ?? "") ?? 8
    static let seed = UInt64(environment["TALLY_FAULT_SEED"] ?? "") ?? 11

    static let aggregates = """
        "aggregates":[{"name":"n","fn":"count"},{"name":"with_total","fn":"count","field":"total"},
          {"name":"revenue","fn":"sum","field":"total"},{"name":"avg_total","fn":"avg","field":"total"},
          {"name":"min_total","fn":"min","field":"total"},{"name":"max_total","fn":"max","field":"total"}]
        """
    static let tumbling = """
        {"name":"fi_tumbling","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
         "groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
         "window":{"type":"tumbling","size":"1m","grace":"2s"},\(aggregates),"output":"fi_tumbling_out"}
        """
    static let sliding = """
        {"name":"fi_sliding","source":"orders","groupBy":["customer.tier"],"time":{"field":"ts_s","format":"epoch_s"},
         "window":{"type":"sliding","size":"5m","slide":"1m","grace":"2s"},\(aggregates),"output":"fi_sliding_out"}
        """

    struct Query {
        var name: String
        var output: String
        var groupBy: [String]
        var reference: ReferenceAggregator
    }

    static func queries(_ lines: [String]) -> [Query] {
        var t = ReferenceAggregator(.init(
            name: "fi_tumbling", filter: { ($0["event_type"] as? String) == "OrderCreated" },
            groupBy: ["customer_id"], timeField: "ts", timeInSeconds: false,
            size: 60_000, slide: 60_000, grace: 2000, numericField: "total"))
        var s = ReferenceAggregator(.init(
            name: "fi_sliding", filter: { _ in true }, groupBy: ["customer.tier"], timeField: "ts_s",
            timeInSeconds: true, size: 300_000, slide: 60_000, grace: 2000, numericField: "total"))
        for l in lines {
            t.add(l)
            s.add(l)
        }
        return [
            Query(name: "fi_tumbling", output: "fi_tumbling_out", groupBy: ["customer_id"], reference: t),
            Query(name: "fi_sliding", output: "fi_sliding_out", groupBy: ["customer.tier"], reference: s),
        ]
    }

    /// How one engine run ends.
    enum Kill: CustomStringConvertible {
        case external(milliseconds: Int)
        case failpoint(String, hit: Int)

        var description: String {
            switch self {
            case .external(let ms): return "kill -9 after \(ms) ms"
            case .failpoint(let name, let n): return "failpoint \(name):\(n)"
            }
        }

        /// Every kind of moment in turn, with random timing within each.
        static func plan(round: Int, _ rng: inout SplitMix) -> Kill {
            switch round % 9 {
            case 0: return .external(milliseconds: rng.int(20...250))  // start-up, restore
            case 1: return .failpoint("polled", hit: 1)
            case 2: return .failpoint("checkpoint.flushed", hit: 1)
            case 3: return .failpoint("emitted", hit: rng.int(1...2))
            case 4: return .failpoint("checkpoint.written", hit: rng.int(1...4))
            case 5: return .external(milliseconds: rng.int(300...1500))
            case 6: return .failpoint("restored", hit: 1)
            case 7: return .failpoint("checkpoint.committed", hit: rng.int(1...4))
            default: return .failpoint("startup", hit: 1)
            }
        }
    }

    /// A broker with the topics of both definitions, their files, a tail on their outputs, and
    /// engine runs on one state folder.
    final class Rig {
        let dir: TemporaryFolder
        let broker: TestBroker
        let bootstrap: String
        let queriesDir: URL
        let http = freePort()
        let tail: TopicTail

        init() throws {
            dir = try TemporaryFolder("tally-faults")
            let topics = ["orders:1", "fi_tumbling_out:4", "fi_tumbling_out.dlq:1", "fi_sliding_out:4", "fi_sliding_out.dlq:1"]
            broker = try TestBroker(topics: topics, in: dir.url)
            bootstrap = broker.bootstrap
            queriesDir = dir.url.appendingPathComponent("queries")
            try FileManager.default.createDirectory(at: queriesDir, withIntermediateDirectories: true)
            try FaultInjectionTests.tumbling.write(to: queriesDir.appendingPathComponent("tumbling.json"), atomically: true, encoding: .utf8)
            try FaultInjectionTests.sliding.write(to: queriesDir.appendingPathComponent("sliding.json"), atomically: true, encoding: .utf8)
            tail = try TopicTail(["fi_tumbling_out", "fi_tumbling_out.dlq", "fi_sliding_out", "fi_sliding_out.dlq"], bootstrap: bootstrap)
        }

        deinit { tail.stop() }

        /// `tally run` on the rig's state. The producer lingers longer than a checkpoint interval,
        /// so every checkpoint has results in flight that its flush must wait for.
        func engine(_ name: String, failpoint: String? = nil) throws -> ChildProcess {
            try ChildProcess(
                ["run", "--queries", queriesDir.path, "--bootstrap", bootstrap,
                 "--state", dir.url.appendingPathComponent("state").path, "--http", "127.0.0.1:\(http)",
                 "--checkpoint-interval", "200ms", "--idle-timeout", "60s", "--retention", "30d",
                 "--kafka-property", "producer.linger.ms=300"],
                in: dir.url, name: name, environment: failpoint.map { ["TALLY_FAILPOINT": $0] } ?? [:])
        }

        func produce(_ lines: ArraySlice<String>, name: String) throws {
            try TallyBinary.produce(lines, bootstrap: bootstrap, in: dir.url, name: name)
        }

        /// With `engine` running on everything produced: waits until both definitions have read
        /// all `lines`, checks counters, results and dead letters against the reference, and
        /// returns how many results and dead letters arrived more than once (all identical, or
        /// the test fails).
        func verifyFinished(_ lines: [String], queries: [Query]) throws -> Int {
            let base = "http://127.0.0.1:\(http)"
            try HTTPGet.waitReady("\(base)/health", timeout: 60)
            let deadline = Date().addingTimeInterval(Double(lines.count) / 2000 + 120)
            var statuses: [String: [String: Any]] = [:]
            repeat {
                for q in queries {
                    statuses[q.name] = (try? HTTPGet.get("\(base)/queries/\(q.name)"))?.json as? [String: Any]
                }
                if queries.allSatisfy({ FaultInjectionTests.read(statuses[$0.name]) == lines.count }) { break }
                Thread.sleep(forTimeInterval: 0.3)
            } while Date() < deadline
            // Then one more checkpoint, which flushes the producer, and a moment for the tail.
            let readAt = Int64(Date().timeIntervalSince1970 * 1000)
            while Date() < deadline {
                let s = (try? HTTPGet.get("\(base)/queries/\(queries[0].name)"))?.json as? [String: Any]
                if let t = (s?["lastCheckpoint"] as? NSNumber)?.int64Value, t > readAt { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            Thread.sleep(forTimeInterval: 1)

            var duplicates = 0
            for q in queries {
                let ref = q.reference
                // Accounting, per definition: read = counted + filtered + late + rejected, each as the reference.
                let s = try #require(statuses[q.name])
                #expect(FaultInjectionTests.read(s) == lines.count, "\(q.name) read \(FaultInjectionTests.read(s)) of \(lines.count)")
                #expect((s["events"] as? NSNumber)?.intValue == ref.outcomes["counted", default: 0], "\(q.name)")
                #expect((s["filtered"] as? NSNumber)?.intValue == ref.outcomes["filtered", default: 0], "\(q.name)")
                #expect((s["late"] as? NSNumber)?.intValue == ref.outcomes["late", default: 0], "\(q.name)")
                let rejected = ref.outcomes.filter { !["counted", "filtered", "late"].contains($0.key) }
                #expect((s["rejected"] as? NSNumber)?.intValue == rejected.values.reduce(0, +), "\(q.name)")
                let by = s["rejectedBy"] as? [String: Any] ?? [:]
                for (reason, n) in rejected { #expect((by[reason] as? NSNumber)?.intValue == n, "\(q.name) \(reason)") }

                // Final results: all of the reference's, each equal to it; a duplicate only if identical.
                let expected = ref.closedWindows
                #expect(tail.wait(for: q.output, timeout: 60) { Set($0.map(\.key)).count >= expected.count })
                let records = tail.records(of: q.output)
                duplicates += records.count - Set(records.map(\.key)).count
                FaultInjectionTests.verify(records, expected: expected, groupBy: q.groupBy, query: q.name)

                // Dead letters: exactly the late and rejected events, by source offset, with their reason.
                let wanted = ref.perLine.enumerated().filter { !["counted", "filtered"].contains($0.element) }
                #expect(tail.wait(for: "\(q.output).dlq", timeout: 30) { Set($0.map { $0.headers["tally.offset"] }).count >= wanted.count })
                var reasonByOffset: [Int: String] = [:]
                let dead = tail.records(of: "\(q.output).dlq")
                duplicates += dead.count - Set(dead.map { $0.headers["tally.offset"] }).count
                for d in dead {
                    let offset = Int(d.headers["tally.offset"] ?? "") ?? -1
                    if let earlier = reasonByOffset[offset] { #expect(earlier == d.headers["tally.reason"], "offset \(offset)") }
                    reasonByOffset[offset] = d.headers["tally.reason"]
                }
                #expect(reasonByOffset.count == wanted.count, "\(q.name): \(reasonByOffset.count) dead letters, reference \(wanted.count)")
                for (offset, reason) in wanted where reasonByOffset[offset] != reason {
                    Issue.record("\(q.name): offset \(offset) should be a dead letter with reason \(reason), got \(reasonByOffset[offset] ?? "none")")
                    break
                }
            }
            #expect(tail.consumerErrors.isEmpty, "output dropped before it was read: \(tail.consumerErrors.prefix(3))")
            return duplicates
        }
    }

    static func workload(_ count: Int, seed: UInt64) -> [String] {
        let end = TallyTestCommandTests.base + 100_000_000
        return TallyTestCommandTests.dataset(count: count, seed: seed)
            + ["{\"event_type\":\"Flush\",\"customer_id\":\"c0\",\"ts\":\(end),\"ts_s\":\(end / 1000),\"customer\":{\"tier\":\"gold\"}}"]
    }

    @Test func nothingLostNothingCountedTwiceAcrossKills() async throws {
        try await onOwnThread { try Self().nothingLostNothingCountedTwiceAcrossKillsBody() }
    }

    func nothingLostNothingCountedTwiceAcrossKillsBody() throws {
        let rig = try Rig()
        let lines = Self.workload(Self.eventCount, seed: Self.seed)
        let queries = Self.queries(lines)

        // Stream the workload in one chunk per kill; the last chunk goes to the run that finishes.
        let chunk = (lines.count + Self.killCount) / (Self.killCount + 1)
        var rng = SplitMix(seed: Self.seed)
        var killed: [String: Int] = [:]
        for round in 0..<Self.killCount {
            try rig.produce(lines[(round * chunk)..<min((round + 1) * chunk, lines.count)], name: "chunk\(round)")
            let kill = Kill.plan(round: round, &rng)
            let run: ChildProcess
            switch kill {
            case .external(let ms):
                run = try rig.engine("engine\(round)")
                Thread.sleep(forTimeInterval: Double(ms) / 1000)
                run.signal(SIGKILL)
            case .failpoint(let name, let n):
                run = try rig.engine("engine\(round)", failpoint: "\(name):\(n)")
                // A point not reached in 10 s (no results in this chunk, say) is replaced by a kill.
                if run.wait(timeout: 10) == nil { run.signal(SIGKILL) }
            }
            #expect(run.wait() != nil)
            #expect(run.wasKilled, "round \(round) (\(kill)) ended otherwise: \(run.stderr.suffix(2000))")
            let point: String
            if case .failpoint(let name, _) = kill, run.stderr.contains("failpoint \(name) reached") { point = name } else { point = "external" }
            killed[point, default: 0] += 1
        }
        try rig.produce(lines[min(Self.killCount * chunk, lines.count)...], name: "last")
        let last = try rig.engine("last")
        let duplicates = try rig.verifyFinished(lines, queries: queries)
        #expect(killed.values.reduce(0, +) == Self.killCount)
        let points = killed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("fault harness: \(lines.count) events, \(Self.killCount) kills (\(points)), \(duplicates) identical duplicates (results and dead letters)")
        last.signal(SIGTERM)
        #expect(last.wait() == 0, "stderr: \(last.stderr.suffix(2000))")
    }

    /// Each gap of a checkpoint, hit exactly. Killed after the producer flush but before the
    /// RocksDB batch, the state does not know that the results and dead letters since the last
    /// checkpoint went out, so the restart sends them again (identical). Killed after the batch, before or after the Kafka commit, the state
    /// says they went out and where to resume: nothing is emitted or counted twice, although
    /// Kafka's committed offset is one checkpoint behind.
    @Test(arguments: ["checkpoint.flushed", "checkpoint.written", "checkpoint.committed"])
    func aKillInEachCheckpointGap(_ point: String) async throws {
        try await onOwnThread { try Self().aKillInEachCheckpointGapBody(point) }
    }

    func aKillInEachCheckpointGapBody(_ point: String) throws {
        let rig = try Rig()
        let lines = Self.workload(6_000, seed: 5)
        let queries = Self.queries(lines)
        try rig.produce(lines[...], name: "all")
        let killed = try rig.engine("killed", failpoint: "\(point):1")
        #expect(killed.wait(timeout: 60) != nil)
        #expect(killed.stderr.contains("failpoint \(point) reached"), "\(killed.stderr.suffix(2000))")
        Thread.sleep(forTimeInterval: 1)  // let the tail read what was delivered
        let emittedBefore = queries.map { rig.tail.records(of: $0.output).count }.reduce(0, +)
        let last = try rig.engine("restarted")
        let duplicates = try rig.verifyFinished(lines, queries: queries)
        if point == "checkpoint.flushed" {
            #expect(emittedBefore > 0 && duplicates > 0, "what was flushed since the last checkpoint is sent again")
        } else {
            #expect(duplicates == 0, "results recorded as emitted were emitted again")
        }
        last.signal(SIGTERM)
        #expect(last.wait() == 0, "stderr: \(last.stderr.suffix(2000))")
    }

    /// Events a definition has read, from its `/queries/{name}` status.
    static func read(_ s: [String: Any]?) -> Int {
        guard let s else { return -1 }
        return ["events", "filtered", "late", "rejected"].map { (s[$0] as? NSNumber)?.intValue ?? 0 }.reduce(0, +)
    }

    /// Every record final and equal to `expected` (windows of the reference by id); duplicates
    /// byte-identical; none missing.
    static func verify(_ records: [TopicTail.Record], expected: [String: ReferenceAggregator.Acc], groupBy: [String], query: String) {
        var byKey: [String: String] = [:]
        for r in records {
            if let earlier = byKey[r.key], earlier != r.value {
                Issue.record("\(query): a duplicate of \(r.key) differs:\n\(earlier)\n\(r.value)")
            }
            byKey[r.key] = r.value
        }
        #expect(byKey.count == expected.count, "\(query): distinct results \(byKey.count), reference \(expected.count)")
        var wrong = 0
        for (_, value) in byKey {
            guard let rec = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any],
                let key = rec["key"] as? [String: Any], let window = rec["window"] as? [String: Any],
                let start = (window["start"] as? NSNumber)?.int64Value, let v = rec["values"] as? [String: Any]
            else {
                Issue.record("\(query): unreadable result \(value)")
                continue
            }
            let id = groupBy.map { "\($0)=\(ReferenceAggregator.render(key[$0] ?? NSNull()))" }.joined(separator: ",") + "|\(start)"
            guard let acc = expected[id] else {
                Issue.record("\(query): result \(id) is not in the reference")
                continue
            }
            var ok = rec["final"] as? Bool == true
            ok = ok && (v["n"] as? NSNumber)?.intValue == acc.events && (v["with_total"] as? NSNumber)?.intValue == acc.present
            if acc.present > 0 {
                let revenue = (v["revenue"] as? NSNumber)?.doubleValue ?? .nan
                ok = ok && abs(revenue - acc.sum) <= 1e-9 * max(1, abs(acc.sum))
                ok = ok && (v["min_total"] as? NSNumber)?.doubleValue == acc.min && (v["max_total"] as? NSNumber)?.doubleValue == acc.max
            } else {
                ok = ok && v["revenue"] is NSNull && v["min_total"] is NSNull
            }
            if !ok {
                wrong += 1
                if wrong <= 3 { Issue.record("\(query): \(id) = \(value), reference \(acc)") }
            }
        }
        #expect(wrong == 0, "\(query): \(wrong) results differ from the reference")
    }
}
