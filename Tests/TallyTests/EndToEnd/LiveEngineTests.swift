import Foundation
import Kafka
import Testing

/// The real `tally broker` and `tally run` as child processes, a real RocksDB folder, and the
/// output compared with the plain reference. One source partition keeps the processing order
/// (and so lateness and float sums) deterministic across restarts.
@Suite(.serialized) struct LiveEngineTests {
    static let definition = """
        {"name":"live","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
         "groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
         "window":{"type":"tumbling","size":"1m","grace":"2s"},
         "aggregates":[{"name":"n","fn":"count"},{"name":"with_total","fn":"count","field":"total"},
           {"name":"revenue","fn":"sum","field":"total"},{"name":"avg_total","fn":"avg","field":"total"},
           {"name":"min_total","fn":"min","field":"total"},{"name":"max_total","fn":"max","field":"total"}],
         "output":"live_out"}
        """

    static func reference(_ lines: [String]) -> ReferenceAggregator {
        var ref = ReferenceAggregator(.init(
            name: "live", filter: { ($0["event_type"] as? String) == "OrderCreated" },
            groupBy: ["customer_id"], timeField: "ts", timeInSeconds: false,
            size: 60_000, slide: 60_000, grace: 2000, numericField: "total"))
        for l in lines { ref.add(l) }
        return ref
    }

    /// The dataset of the offline test, then an event far ahead that closes every window.
    static func lines() -> [String] {
        TallyTestCommandTests.dataset(count: 30_000, seed: 7)
            + ["{\"event_type\":\"Flush\",\"customer_id\":\"c0\",\"ts\":\(TallyTestCommandTests.base + 10_000_000)}"]
    }

    struct Setup {
        let dir: TemporaryFolder
        let broker: TestBroker
        let bootstrap: String
        let definitionPath: String
        let http: Int

        init(partitions: Int = 1) throws {
            dir = try TemporaryFolder("tally-live")
            broker = try TestBroker(topics: ["orders:\(partitions)", "live_out:\(partitions)", "live_out.dlq:1"], in: dir.url)
            bootstrap = broker.bootstrap
            definitionPath = dir.url.appendingPathComponent("live.json").path
            try LiveEngineTests.definition.write(toFile: definitionPath, atomically: true, encoding: .utf8)
            http = freePort()
        }

        func produce(_ lines: [String], name: String) throws {
            try TallyBinary.produce(lines, bootstrap: bootstrap, keyField: "customer_id", in: dir.url, name: name)
        }

        func engine(_ name: String, extra: [String] = [], definition: String? = nil, checkpointInterval: String = "200ms") throws -> ChildProcess {
            try ChildProcess(
                ["run", "--queries", definition ?? definitionPath, "--bootstrap", bootstrap,
                 "--state", dir.url.appendingPathComponent("state").path,
                 "--http", "127.0.0.1:\(http)", "--checkpoint-interval", checkpointInterval, "--idle-timeout", "60s",
                 "--retention", "30d"] + extra,
                in: dir.url, name: name)
        }

        /// Events the definition has read (counted, filtered, late or rejected), from
        /// `/queries/live`; -1 while the engine does not answer.
        func read() -> Int {
            guard let s = (try? HTTPGet.get("http://127.0.0.1:\(http)/queries/live"))?.json as? [String: Any] else { return -1 }
            return ["events", "filtered", "late", "rejected"].map { (s[$0] as? NSNumber)?.intValue ?? 0 }.reduce(0, +)
        }

        /// Final records by message key, waiting until `expected` distinct ones arrived.
        func output(expected: Int, timeout: Double = 90) throws -> [TopicReader.Record] {
            let deadline = Date().addingTimeInterval(timeout)
            var records: [TopicReader.Record] = []
            repeat {
                records = try TopicReader.read("live_out", bootstrap: bootstrap, quiet: 1.0)
                if Set(records.map(\.key)).count >= expected { return records }
            } while Date() < deadline
            return records
        }
    }

    /// Checks every record against the reference; duplicates must be byte-identical.
    static func verify(_ records: [TopicReader.Record], _ ref: ReferenceAggregator) throws {
        let expected = ref.closedWindows
        var byKey: [String: String] = [:]
        for r in records {
            if let earlier = byKey[r.key] {
                #expect(earlier == r.value, "a duplicate of \(r.key) differs:\n\(earlier)\n\(r.value)")
            }
            byKey[r.key] = r.value
        }
        #expect(byKey.count == expected.count, "distinct results \(byKey.count), reference \(expected.count)")
        for (_, value) in byKey {
            let rec = try JSONSerialization.jsonObject(with: Data(value.utf8)) as! [String: Any]
            #expect(rec["final"] as? Bool == true)
            let key = rec["key"] as! [String: Any]
            let start = ((rec["window"] as! [String: Any])["start"] as! NSNumber).int64Value
            let id = "customer_id=\(ReferenceAggregator.render(key["customer_id"]!))|\(start)"
            guard let acc = expected[id] else {
                Issue.record("result \(id) is not in the reference")
                continue
            }
            let v = rec["values"] as! [String: Any]
            #expect((v["n"] as! NSNumber).intValue == acc.events, "\(id)")
            #expect((v["with_total"] as! NSNumber).intValue == acc.present, "\(id)")
            if acc.present > 0 {
                #expect(abs((v["revenue"] as! NSNumber).doubleValue - acc.sum) <= 1e-9 * max(1, abs(acc.sum)), "\(id)")
                #expect((v["min_total"] as! NSNumber).doubleValue == acc.min, "\(id)")
                #expect((v["max_total"] as! NSNumber).doubleValue == acc.max, "\(id)")
            } else {
                #expect(v["revenue"] is NSNull, "\(id)")
            }
        }
    }

    @Test func outputEqualsReferenceAcrossRepeatedKills() async throws {
        try await onOwnThread { try Self().outputEqualsReferenceAcrossRepeatedKillsBody() }
    }

    func outputEqualsReferenceAcrossRepeatedKillsBody() throws {
        let setup = try Setup()
        let lines = Self.lines()
        let ref = Self.reference(lines)
        let chunks = stride(from: 0, to: lines.count, by: 6_000).map { Array(lines[$0..<min($0 + 6_000, lines.count)]) }
        var rng = SplitMix(seed: 3)
        try setup.produce(chunks[0], name: "chunk0")
        var engine = try setup.engine("engine0")
        var kills = 0
        for (i, chunk) in chunks.enumerated().dropFirst() {
            // Kill at a different moment each time: start-up and restore, polling, mid-checkpoint.
            Thread.sleep(forTimeInterval: Double(Int.random(in: 30...700, using: &rng)) / 1000)
            engine.signal(SIGKILL)
            #expect(engine.wait() != nil)
            kills += 1
            try setup.produce(chunk, name: "chunk\(i)")
            engine = try setup.engine("engine\(i)")
        }
        #expect(kills >= 3)
        let records = try setup.output(expected: ref.closedWindows.count)
        try Self.verify(records, ref)

        // The dead-letter topic holds exactly the late and rejected events (by offset, with reason).
        let dead = try TopicReader.read("live_out.dlq", bootstrap: setup.bootstrap)
        var reasonByOffset: [Int: String] = [:]
        for d in dead {
            let offset = Int(d.headers["tally.offset"] ?? "-1")!
            if let earlier = reasonByOffset[offset] { #expect(earlier == d.headers["tally.reason"]) }
            reasonByOffset[offset] = d.headers["tally.reason"]
            #expect(d.headers["tally.topic"] == "orders" && d.headers["tally.partition"] == "0")
        }
        let expectedDead = ref.perLine.enumerated().filter { !["counted", "filtered"].contains($0.element) }
        #expect(reasonByOffset.count == expectedDead.count)
        for (offset, reason) in expectedDead { #expect(reasonByOffset[offset] == reason, "offset \(offset)") }

        try Self.verifyHTTP(port: setup.http, ref)
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0, "stderr: \(engine.stderr)")
    }

    /// The HTTP answers of a finished run: counters and sampled keys equal the reference; bad
    /// requests get 4xx JSON.
    static func verifyHTTP(port: Int, _ ref: ReferenceAggregator) throws {
        let base = "http://127.0.0.1:\(port)"
        try HTTPGet.waitReady("\(base)/health")
        let q = try HTTPGet.get("\(base)/queries/live")
        #expect(q.status == 200)
        let status = q.json as! [String: Any]
        #expect((status["events"] as! NSNumber).intValue == ref.outcomes["counted", default: 0])
        #expect((status["filtered"] as! NSNumber).intValue == ref.outcomes["filtered", default: 0])
        #expect((status["late"] as! NSNumber).intValue == ref.outcomes["late", default: 0])
        let rejected = ref.outcomes.filter { !["counted", "filtered", "late"].contains($0.key) }.values.reduce(0, +)
        #expect((status["rejected"] as! NSNumber).intValue == rejected)
        #expect((status["watermark"] as! NSNumber).int64Value == ref.watermark)
        let closed = ref.closedWindows
        for c in stride(from: 0, to: 150, by: 15) {
            let r = try HTTPGet.get("\(base)/queries/live/keys/c\(c)")
            #expect(r.status == 200)
            let windows = (r.json as! [String: Any])["windows"] as! [[String: Any]]
            let expected = closed.filter { $0.key.hasPrefix("customer_id=\"c\(c)\"|") }
            #expect(windows.count == expected.count, "c\(c): \(windows.count) windows, reference \(expected.count)")
            var lastStart = Int64.min
            for w in windows {
                let start = (w["start"] as! NSNumber).int64Value
                #expect(start > lastStart, "sorted by start")
                lastStart = start
                #expect(w["final"] as? Bool == true)
                let acc = expected["customer_id=\"c\(c)\"|\(start)"]
                let v = w["values"] as! [String: Any]
                #expect((v["n"] as! NSNumber).intValue == acc?.events, "c\(c) \(start)")
            }
        }
        let unknown = try HTTPGet.get("\(base)/queries/nope")
        #expect(unknown.status == 404 && (unknown.json as? [String: Any])?["error"] != nil)
        let arity = try HTTPGet.get("\(base)/queries/live/keys/a/b")
        #expect(arity.status == 400 && (arity.json as? [String: Any])?["error"] != nil)
        // A range of more windows than one request may read (30 days of 1-minute windows) is refused.
        let wide = try HTTPGet.get("\(base)/queries/live/keys/c1?from=0")
        #expect(wide.status == 400 && ((wide.json as? [String: Any])?["error"] as? String)?.contains("at most 10000") == true)
        let bad = try HTTPGet.get("\(base)/queries/live/keys/c1?from=yesterday")
        #expect(bad.status == 400 && (bad.json as? [String: Any])?["error"] != nil)
    }

    /// Until a checkpoint stores them, the final results a key query returns are those the
    /// engine keeps aside (`PendingClosedResults`): with no checkpoint in the hour, every one.
    @Test func finalResultsAnswerKeyQueriesBeforeACheckpointStoresThem() async throws {
        try await onOwnThread {
            let setup = try Setup()
            let lines = Self.lines()
            let ref = Self.reference(lines)
            try setup.produce(lines, name: "all")
            let engine = try setup.engine("engine", checkpointInterval: "1h")
            try Self.verify(try setup.output(expected: ref.closedWindows.count), ref)
            try Self.verifyHTTP(port: setup.http, ref)
            let status = try HTTPGet.get("http://127.0.0.1:\(setup.http)/queries/live").json as? [String: Any]
            #expect(status?["lastCheckpoint"] is NSNull, "no checkpoint yet: \(String(describing: status))")
            engine.signal(SIGTERM)
            #expect(engine.wait() == 0, "stderr: \(engine.stderr)")
        }
    }

    @Test func sigtermCheckpointsSoARestartReplaysNothingAndAChangedDefinitionIsRefused() async throws {
        try await onOwnThread { try Self().sigtermCheckpointsSoARestartReplaysNothingAndAChangedDefinitionIsRefusedBody() }
    }

    func sigtermCheckpointsSoARestartReplaysNothingAndAChangedDefinitionIsRefusedBody() throws {
        let setup = try Setup()
        let lines = Self.lines()
        let ref = Self.reference(lines)
        try setup.produce(lines, name: "all")
        let first = try setup.engine("first")
        let records = try setup.output(expected: ref.closedWindows.count)
        try Self.verify(records, ref)
        first.signal(SIGTERM)
        #expect(first.wait() == 0, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("stopped after a final checkpoint"))

        // A restart on the same state resumes after the last event: nothing is emitted again.
        let second = try setup.engine("second")
        Thread.sleep(forTimeInterval: 2)
        let again = try TopicReader.read("live_out", bootstrap: setup.bootstrap, quiet: 1.0)
        #expect(again.count == records.count, "results re-emitted after a clean restart")
        second.signal(SIGTERM)
        #expect(second.wait() == 0)

        // The same name with another window size is refused, with the way out in the message.
        let changed = setup.dir.url.appendingPathComponent("changed.json").path
        try Self.definition.replacingOccurrences(of: "\"size\":\"1m\"", with: "\"size\":\"5m\"")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        let refused = try setup.engine("refused", definition: changed)
        #expect(refused.wait() == 1)
        #expect(refused.stderr.contains("definition live changed incompatibly"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--reset-state live"))

        // With --reset-state the definition starts over from the earliest offsets.
        let reset = try setup.engine("reset", extra: ["--reset-state", "live"], definition: changed)
        Thread.sleep(forTimeInterval: 3)
        #expect(reset.stderr.contains("restored 0 window slices"), "\(reset.stderr)")
        reset.signal(SIGTERM)
        #expect(reset.wait() == 0, "\(reset.stderr)")
    }

    @Test func fourPartitionsGiveTheReferenceWhenNothingIsLate() async throws {
        try await onOwnThread { try Self().fourPartitionsGiveTheReferenceWhenNothingIsLateBody() }
    }

    func fourPartitionsGiveTheReferenceWhenNothingIsLateBody() throws {
        let setup = try Setup(partitions: 4)
        // Disorder within a partition stays under the grace, so no event can be late whatever
        // the interleaving of partitions: the result is the same for every processing order.
        let lines = TallyTestCommandTests.dataset(count: 30_000, seed: 11, disorder: 900, veryLate: false)
        var flush: [String] = []
        for c in 0..<150 {  // an event far ahead on every partition (keys cover all four)
            flush.append("{\"event_type\":\"Flush\",\"customer_id\":\"c\(c)\",\"ts\":\(TallyTestCommandTests.base + 10_000_000)}")
        }
        let ref = Self.reference(lines + flush)
        #expect(ref.outcomes["late", default: 0] == 0)
        try setup.produce(lines, name: "data")
        try setup.produce(flush, name: "flush")
        let engine = try setup.engine("engine")
        let records = try setup.output(expected: ref.closedWindows.count)
        try Self.verify(records, ref)
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)
    }

    @Test func eventsProducedWhileTheEngineRunsAreQueryableWithinASecondAndMeasured() async throws {
        try await onOwnThread { try Self().eventsProducedWhileTheEngineRunsAreQueryableWithinASecondAndMeasuredBody() }
    }

    func eventsProducedWhileTheEngineRunsAreQueryableWithinASecondAndMeasuredBody() throws {
        let setup = try Setup()
        let engine = try setup.engine("engine")
        var deadline = Date().addingTimeInterval(30)
        while setup.read() < 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        // Twenty small bursts 50 ms apart, each timestamped by the producer as it is sent.
        let producer = try Producer(config: ["bootstrap.servers": setup.bootstrap, "linger.ms": "0"])
        let base = TallyTestCommandTests.base
        for burst in 0..<20 {
            for i in 0..<10 {
                let n = burst * 10 + i
                try producer.produce(topic: "orders", key: nil, value: Array("{\"event_type\":\"OrderCreated\",\"customer_id\":\"c\(n % 5)\",\"total\":1,\"ts\":\(base + Int64(n))}".utf8))
            }
            try producer.flush(timeout: .seconds(10))
            Thread.sleep(forTimeInterval: 0.05)
        }
        deadline = Date().addingTimeInterval(30)
        while setup.read() < 200 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(setup.read() == 200)
        let metrics = try String(contentsOf: URL(string: "http://127.0.0.1:\(setup.http)/metrics")!, encoding: .utf8)
        func value(_ prefix: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let count = value("tally_ingest_latency_seconds_count") ?? 0
        let underASecond = value("tally_ingest_latency_seconds_bucket{le=\"1.0\"}") ?? -1
        #expect(count >= 20, "one sample per batch at least: \(metrics)")
        #expect(underASecond == count, "every sampled event queryable within 1 s of being produced: \(metrics)")
        // Polls return as soon as messages are queued and fetches wait at most 5 ms: with
        // librdkafka's defaults (500 ms fetch wait) and batch polls that wait out their timeout,
        // hardly any event made it within 100 ms.
        let underATenth = value("tally_ingest_latency_seconds_bucket{le=\"0.1\"}") ?? -1
        #expect(underATenth >= count / 2, "most sampled events queryable within 100 ms: \(metrics)")
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)
    }

    /// (The development broker only: it drops a partition's oldest records past 5 MiB, which is
    /// how this test loses them; Tansu keeps everything and has no DeleteRecords.)
    @Test(.enabled(if: TestBroker.kind == .mock))
    func aStoredOffsetNoLongerInTheTopicIsReportedAsDataLoss() async throws {
        try await onOwnThread { try Self().aStoredOffsetNoLongerInTheTopicIsReportedAsDataLossBody() }
    }

    func aStoredOffsetNoLongerInTheTopicIsReportedAsDataLossBody() throws {
        let setup = try Setup()
        let base = TallyTestCommandTests.base
        let first = (0..<100).map { "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c\($0 % 7)\",\"total\":1,\"ts\":\(base + Int64($0) * 10)}" }
        try setup.produce(first, name: "first")
        var engine = try setup.engine("before")
        let deadline = Date().addingTimeInterval(30)
        while setup.read() < 100 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)

        // While the engine is down, ~7 MB of uncompressed events push the first ones out of the
        // mock broker's 5 MiB log.
        let producer = try Producer(config: ["bootstrap.servers": setup.bootstrap, "compression.codec": "none"])
        let pad = String(repeating: "x", count: 10_000)
        for i in 0..<700 {
            try producer.produce(topic: "orders", key: nil, value: Array("{\"event_type\":\"Filler\",\"customer_id\":\"c1\",\"ts\":\(base + 2000 + Int64(i)),\"pad\":\"\(pad)\"}".utf8))
        }
        try producer.flush(timeout: .seconds(30))

        engine = try setup.engine("after")
        let until = Date().addingTimeInterval(30)
        while !engine.stderr.contains("data loss") && Date() < until { Thread.sleep(forTimeInterval: 0.1) }
        #expect(engine.stderr.contains("data loss: orders[0] resumed at offset"), "\(engine.stderr)")
        let metrics = try String(contentsOf: URL(string: "http://127.0.0.1:\(setup.http)/metrics")!, encoding: .utf8)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("tally_lost_events_total{query=\"live\"}") }
        #expect(line != nil, "\(metrics)")
        if let line, let n = Double(line.split(separator: " ").last!) { #expect(n > 0) }
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)
    }
}

/// The demo path: `tally run` without `--bootstrap` starts its own broker, `--replay` loads the
/// sample data, and the example definitions run, including one in update mode.
@Suite struct EmbeddedDemoTests {
    @Test func runWithoutBootstrapServesTheSampleDataAndEmitsUpdates() async throws {
        try await onOwnThread { try Self().runWithoutBootstrapServesTheSampleDataAndEmitsUpdatesBody() }
    }

    func runWithoutBootstrapServesTheSampleDataAndEmitsUpdatesBody() throws {
        let dir = try TemporaryFolder("tally-demo")
        let port = freePort()
        let root = TallyBinary.packageRoot
        let engine = try ChildProcess(
            ["run", "--queries", root.appendingPathComponent("queries").path,
             "--replay", root.appendingPathComponent("data/orders.jsonl").path,
             "--state", dir.url.appendingPathComponent("state").path, "--http", "127.0.0.1:\(port)",
             "--checkpoint-interval", "200ms"],
            in: dir.url, name: "demo")
        let first = try engine.firstLine()
        #expect(first.hasPrefix("embedded broker: 127.0.0.1:"))
        let bootstrap = String(first.dropFirst("embedded broker: ".count))
        let base = "http://127.0.0.1:\(port)"
        try HTTPGet.waitReady("\(base)/health")
        // Every line of the sample (20,006 with the malformed ones) reaches every definition.
        let deadline = Date().addingTimeInterval(30)
        var totals: [String: Int] = [:]
        repeat {
            let list = (try HTTPGet.get("\(base)/queries").json as? [[String: Any]]) ?? []
            for q in list {
                totals[q["name"] as! String] = ["events", "filtered", "late", "rejected"].map { (q[$0] as! NSNumber).intValue }.reduce(0, +)
            }
            if totals.count == 3 && totals.values.allSatisfy({ $0 == 20_006 }) { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        #expect(totals == ["revenue_per_customer": 20_006, "items_sliding_by_region": 20_006, "paid_by_region_tier": 20_006])
        // The update-mode definition emits changing values, then the final ones.
        Thread.sleep(forTimeInterval: 1)
        let updates = try TopicReader.read("paid_by_region_tier", bootstrap: bootstrap, quiet: 1.0)
        let finals = updates.map { $0.value.contains("\"final\":true") }
        #expect(finals.contains(false) && finals.contains(true), "\(updates.count) records")
        engine.signal(SIGINT)
        #expect(engine.wait() == 0, "\(engine.stderr)")
        // No Kafka client of the process (the engine's consumer and producer, the broker
        // probe's) complains that the embedded broker went away, not even with a notice of the
        // disconnection: it goes with them. (Release builds released the broker early: run this
        // with TALLY_BIN=.build/release/tally too.)
        let complaints = engine.stderr.split(separator: "\n").filter {
            $0.hasPrefix("%3|") || $0.hasPrefix("%4|") || ($0.hasPrefix("%") && $0.contains("|FAIL|"))
        }
        #expect(complaints.isEmpty, "\(complaints.joined(separator: "\n"))")
    }
}
