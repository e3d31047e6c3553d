import Foundation
import Kafka
import Testing

/// Bad input everywhere: `BadEventCorpus` produced byte for byte into a real `tally broker`,
/// consumed by a real `tally run` on a real state folder with two definitions on the topic. Every
/// rejected event must reach its definition's dead-letter topic with the documented reason and
/// source headers, the per-reason counters of `/queries/{name}` and `/metrics` must equal the
/// corpus labels, and the valid events (interleaved) must all be counted in the right keys.
@Suite(.serialized) struct BadInputCorpusTests {
    typealias Corpus = BadEventCorpus

    static let definitions: [(name: String, json: String)] = [
        ("bad_ms", """
            {"name":"bad_ms","source":"orders","groupBy":["customer_id"],"time":{"field":"ts","format":"epoch_ms"},
             "window":{"type":"tumbling","size":"1h","grace":"1h"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"revenue","fn":"sum","field":"total"},{"name":"top","fn":"max","field":"total"}]}
            """),
        ("bad_iso", """
            {"name":"bad_iso","source":"orders","groupBy":["customer.id","region"],"time":{"field":"at","format":"iso8601"},
             "window":{"type":"tumbling","size":"1h","grace":"1h"},
             "aggregates":[{"name":"n","fn":"count"},{"name":"avg_items","fn":"avg","field":"items"}]}
            """),
    ]

    /// What one definition must report for the corpus, from its labels.
    struct Expected {
        var counted = 0
        var rejectedBy: [String: Int] = [:]
        var perKey: [String: (n: Int, sum: Double, present: Int)] = [:]
        var rejected: Int { rejectedBy.values.reduce(0, +) }

        init(_ labels: [Corpus.Expect]) {
            for label in labels {
                switch label {
                case .rejected(let r): rejectedBy[r, default: 0] += 1
                case .counted(let key, let total):
                    counted += 1
                    var k = perKey[key] ?? (0, 0, 0)
                    k.n += 1
                    if let total { k.sum += total; k.present += 1 }
                    perKey[key] = k
                }
            }
        }
    }

    static func labels(_ corpus: Corpus, _ name: String) -> [Corpus.Expect] {
        corpus.events.map { name == "bad_ms" ? $0.ms : $0.iso }
    }

    static func writeDefinitions(in dir: URL) throws -> URL {
        let defs = dir.appendingPathComponent("defs")
        try FileManager.default.createDirectory(at: defs, withIntermediateDirectories: true)
        for d in definitions {
            try d.json.write(to: defs.appendingPathComponent("\(d.name).json"), atomically: true, encoding: .utf8)
        }
        return defs
    }

    @Test func everyBadEventIsDeadLetteredWithItsReasonAndCountedPerReason() async throws {
        try await onOwnThread { try Self().everyBadEventIsDeadLetteredWithItsReasonAndCountedPerReasonBody() }
    }

    func everyBadEventIsDeadLetteredWithItsReasonAndCountedPerReasonBody() throws {
        let corpus = Corpus.make()
        let dir = try TemporaryFolder("tally-bad")
        let broker = try TestBroker(topics: ["orders:1", "bad_ms:1", "bad_ms.dlq:1", "bad_iso:1", "bad_iso.dlq:1"], in: dir.url)
        let bootstrap = broker.bootstrap
        let defs = try Self.writeDefinitions(in: dir.url)
        let statePath = dir.url.appendingPathComponent("state").path

        // Raw bytes, one message each, keyed by their index so dead letters can be traced back.
        let producer = try Producer(config: ["bootstrap.servers": bootstrap])
        for (i, e) in corpus.events.enumerated() {
            try producer.produce(topic: "orders", partition: 0, key: Array("k\(i)".utf8), value: e.bytes)
        }
        try producer.flush(timeout: .seconds(30))
        let source = try TopicReader.read("orders", bootstrap: bootstrap, quiet: 1.0)
        var offsetOf: [String: Int64] = [:]
        for r in source { offsetOf[r.key] = r.offset }
        #expect(source.count == corpus.events.count, "the broker holds \(source.count) of \(corpus.events.count) events")

        let port = freePort()
        let engine = try ChildProcess(
            ["run", "--queries", defs.path, "--bootstrap", bootstrap, "--state", statePath,
             "--http", "127.0.0.1:\(port)", "--checkpoint-interval", "200ms", "--idle-timeout", "60s"],
            in: dir.url, name: "engine")
        let base = "http://127.0.0.1:\(port)"
        try HTTPGet.waitReady("\(base)/health")

        for (name, _) in Self.definitions {
            let expected = Expected(Self.labels(corpus, name))
            print("bad-input corpus, \(name): \(corpus.events.count) events, \(expected.counted) to count, rejected by reason \(expected.rejectedBy.sorted { $0.key < $1.key })")
            #expect(expected.counted > corpus.events.count / 2 && expected.rejected > 30, "the corpus exercises \(name)")
            let status = try Self.waitForAll(base, name, corpus.events.count)
            #expect((status["events"] as? NSNumber)?.intValue == expected.counted, "\(name) events")
            #expect((status["filtered"] as? NSNumber)?.intValue == 0, "\(name) filtered")
            #expect((status["late"] as? NSNumber)?.intValue == 0, "\(name) late")
            #expect((status["rejected"] as? NSNumber)?.intValue == expected.rejected, "\(name) rejected")
            let by = (status["rejectedBy"] as? [String: Any] ?? [:]).mapValues { ($0 as? NSNumber)?.intValue ?? -1 }
            #expect(by == expected.rejectedBy, "\(name) rejectedBy")

            // /metrics is published once per loop turn: wait for it to catch up.
            var metrics: [String: Int] = [:]
            let deadline = Date().addingTimeInterval(10)
            repeat {
                metrics = try Self.rejectedMetrics(base, query: name)
                if metrics == expected.rejectedBy { break }
                Thread.sleep(forTimeInterval: 0.2)
            } while Date() < deadline
            #expect(metrics == expected.rejectedBy, "\(name) tally_rejected_total")

            try Self.checkKeys(base, name, expected)
            try Self.checkDeadLetters(name, corpus, bootstrap: bootstrap, offsetOf: offsetOf,
                                      forbidden: [dir.url.path, statePath, defs.path, TallyBinary.packageRoot.path])
        }
        // The HTTP answers do not reveal the state folder or the definition files either.
        let all = try String(contentsOf: URL(string: "\(base)/queries")!, encoding: .utf8)
        for path in [dir.url.path, defs.path] { #expect(!all.contains(path), "GET /queries shows \(path)") }
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0, "stderr: \(engine.stderr)")
    }

    /// `GET /queries/{name}` once every event of the corpus has an outcome.
    static func waitForAll(_ base: String, _ name: String, _ total: Int) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(60)
        var status: [String: Any] = [:]
        repeat {
            status = (try HTTPGet.get("\(base)/queries/\(name)").json as? [String: Any]) ?? [:]
            let seen = ["events", "filtered", "late", "rejected"].map { (status[$0] as? NSNumber)?.intValue ?? 0 }.reduce(0, +)
            if seen >= total { return status }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        throw TestFailure("\(name) did not process the corpus: \(status)")
    }

    /// `tally_rejected_total{query=name,reason=…}` values from `/metrics`.
    static func rejectedMetrics(_ base: String, query: String) throws -> [String: Int] {
        let text = try String(contentsOf: URL(string: "\(base)/metrics")!, encoding: .utf8)
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("tally_rejected_total{") && line.contains("query=\"\(query)\"") {
            guard let r = line.range(of: "reason=\""), let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            out[String(line[r.upperBound...].prefix { $0 != "\"" })] = Int(value)
        }
        return out
    }

    /// Every key answers one window with the expected count (and sum); a key too long for a URL
    /// gets a JSON error.
    static func checkKeys(_ base: String, _ name: String, _ expected: Expected) throws {
        for (key, want) in expected.perKey {
            let parts = name == "bad_iso" ? key.split(separator: "/").map(String.init) : [key]
            let path = parts.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }.joined(separator: "/")
            let r = try HTTPGet.get("\(base)/queries/\(name)/keys/\(path)")
            if key.utf8.count > 1024 {
                #expect([400, 414].contains(r.status) && (r.json as? [String: Any])?["error"] is String, "\(name): long key gave \(r.status)")
                continue
            }
            let windows = (r.json as? [String: Any])?["windows"] as? [[String: Any]] ?? []
            #expect(r.status == 200 && windows.count == 1, "\(name) key \(key): \(r.status) \(windows.count) windows")
            guard let values = windows.first?["values"] as? [String: Any] else { continue }
            #expect((values["n"] as? NSNumber)?.intValue == want.n, "\(name) key \(key) count")
            if name == "bad_ms" {
                if want.present > 0 {
                    #expect((values["revenue"] as? NSNumber)?.doubleValue == want.sum, "\(name) key \(key) revenue")
                } else {
                    #expect(values["revenue"] is NSNull, "\(name) key \(key) revenue")
                }
            }
        }
    }

    /// The dead-letter topic holds exactly the rejected events, each once, with its bytes, key,
    /// reason and source position, and nothing that names a local path.
    static func checkDeadLetters(
        _ name: String, _ corpus: Corpus, bootstrap: String, offsetOf: [String: Int64], forbidden: [String]
    ) throws {
        let labels = labels(corpus, name)
        let want = labels.filter { $0.reason != nil }.count
        var dead: [TopicReader.Record] = []
        let deadline = Date().addingTimeInterval(30)
        repeat {
            dead = try TopicReader.read("\(name).dlq", bootstrap: bootstrap, quiet: 1.0)
        } while dead.count < want && Date() < deadline
        #expect(dead.count == want, "\(name).dlq holds \(dead.count) records, \(want) expected")
        var seen = Set<Int>()
        for d in dead {
            guard d.key.hasPrefix("k"), let i = Int(d.key.dropFirst()), i < corpus.events.count else {
                Issue.record("\(name).dlq: a record with key \(d.key)")
                continue
            }
            let event = corpus.events[i]
            #expect(seen.insert(i).inserted, "\(name).dlq: \(event.kind) twice")
            #expect(d.headers["tally.reason"] == labels[i].reason, "\(name): \(event.kind)")
            #expect(d.headers["tally.query"] == name)
            #expect(d.headers["tally.topic"] == "orders" && d.headers["tally.partition"] == "0", "\(name): \(event.kind)")
            #expect(d.headers["tally.offset"] == offsetOf[d.key].map { String($0) }, "\(name): \(event.kind) offset")
            #expect(d.payload == event.bytes, "\(name): \(event.kind) bytes changed")
            let texts = Array(d.headers.values) + [d.key]
            for path in forbidden {
                #expect(!texts.contains { $0.contains(path) }, "\(name).dlq headers show \(path)")
                #expect(!d.value.contains(path), "\(name).dlq value shows \(path)")
            }
        }
    }

    /// The same corpus (what a JSON Lines file can hold) through `tally test --dead-letter`.
    @Test(arguments: ["bad_ms", "bad_iso"])
    func offlineRunGivesTheSameOutcomesLineByLine(_ name: String) async throws {
        try await onOwnThread { try Self().offlineRunGivesTheSameOutcomesLineByLineBody(name) }
    }

    func offlineRunGivesTheSameOutcomesLineByLineBody(_ name: String) throws {
        let corpus = Corpus.make(lineSafe: true)
        let labels = Self.labels(corpus, name)
        let expected = Expected(labels)
        let dir = try TemporaryFolder("tally-bad-offline")
        let defs = try Self.writeDefinitions(in: dir.url)
        let input = dir.url.appendingPathComponent("corpus.jsonl")
        var bytes: [UInt8] = []
        for e in corpus.events { bytes += e.bytes + [0x0A] }
        try Data(bytes).write(to: input)
        let dl = dir.url.appendingPathComponent("dead.jsonl")
        let run = try TallyBinary.run(["test", defs.appendingPathComponent("\(name).json").path, "--input", input.path, "--dead-letter", dl.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("read \(corpus.events.count): counted \(expected.counted), filtered 0, late 0, rejected \(expected.rejected)"), "\(run.stderr)")
        for (reason, n) in expected.rejectedBy { #expect(run.stderr.contains("\(reason) \(n)"), "\(reason) \(n): \(run.stderr)") }

        var reasonByLine: [Int: String] = [:]
        for line in try String(contentsOf: dl, encoding: .utf8).split(separator: "\n") {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            reasonByLine[(obj["line"] as! NSNumber).intValue] = obj["reason"] as? String
        }
        for (i, label) in labels.enumerated() {
            #expect(reasonByLine[i + 1] == label.reason, "line \(i + 1): \(corpus.events[i].kind)")
        }
        // Every window closes at the end of input: one record per key with its count.
        var counts: [String: Int] = [:]
        for line in run.stdout.split(separator: "\n") {
            let rec = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let key = rec["key"] as! [String: Any]
            let id = (name == "bad_ms" ? ["customer_id"] : ["customer.id", "region"])
                .map { ReferenceAggregator.render(key[$0]!).replacingOccurrences(of: "\"", with: "") }.joined(separator: "/")
            counts[id, default: 0] += ((rec["values"] as! [String: Any])["n"] as! NSNumber).intValue
        }
        #expect(counts == expected.perKey.mapValues { $0.n })
    }
}
