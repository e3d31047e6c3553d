import Foundation
import Testing

/// The broker goes away under a running engine: paused (SIGSTOP, nothing lost) or restarted (the
/// mock keeps its data in memory, so a restart loses it: the expected loss is explicit). The
/// engine says so in `/health`, the log and `/metrics`, and resumes by itself.
@Suite(.serialized) struct BrokerFaultTests {
    static let pause = Double(ProcessInfo.processInfo.environment["TALLY_BROKER_PAUSE"] ?? "") ?? 30

    struct Setup {
        let dir: TemporaryFolder
        let port = freePort()
        let http = freePort()
        let definition: String

        init() throws {
            dir = try TemporaryFolder("tally-broker-faults")
            definition = dir.url.appendingPathComponent("tumbling.json").path
            try FaultInjectionTests.tumbling.write(toFile: definition, atomically: true, encoding: .utf8)
        }

        func broker(_ name: String) throws -> (ChildProcess, String) {
            let b = try ChildProcess(
                ["broker", "--port", "\(port)", "--topic", "orders:1", "--topic", "fi_tumbling_out:1", "--topic", "fi_tumbling_out.dlq:1"],
                in: dir.url, name: name)
            return (b, try b.firstLine())
        }

        func engine(_ bootstrap: String) throws -> ChildProcess {
            try ChildProcess(
                ["run", "--queries", definition, "--bootstrap", bootstrap,
                 "--state", dir.url.appendingPathComponent("state").path, "--http", "127.0.0.1:\(http)",
                 "--checkpoint-interval", "200ms", "--idle-timeout", "60s", "--retention", "30d"],
                in: dir.url, name: "engine")
        }

        func produce(_ lines: ArraySlice<String>, bootstrap: String, name: String) throws {
            try TallyBinary.produce(lines, bootstrap: bootstrap, in: dir.url, name: name)
        }

        var base: String { "http://127.0.0.1:\(http)" }

        /// Waits until the definition has read `count` events.
        func waitRead(_ count: Int, timeout: Double = 90) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                let s = (try? HTTPGet.get("\(base)/queries/fi_tumbling"))?.json as? [String: Any]
                if FaultInjectionTests.read(s) == count { return true }
                Thread.sleep(forTimeInterval: 0.2)
            }
            return false
        }

        /// Waits until `/health` answers `status` (and its HTTP code), returning the detail.
        func waitHealth(_ status: String, code: Int, timeout: Double) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let r = try? HTTPGet.get("\(base)/health"), r.status == code,
                    let json = r.json as? [String: Any], json["status"] as? String == status
                {
                    return json["detail"] as? String ?? ""
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            return nil
        }

        func metrics() -> String {
            guard let url = URL(string: "\(base)/metrics"), let data = try? Data(contentsOf: url) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test func aPausedBrokerDegradesHealthAndTheEngineResumesLosingNothing() async throws {
        try await onOwnThread { try Self().aPausedBrokerDegradesHealthAndTheEngineResumesLosingNothingBody() }
    }

    func aPausedBrokerDegradesHealthAndTheEngineResumesLosingNothingBody() throws {
        let setup = try Setup()
        let (broker, bootstrap) = try setup.broker("broker")
        let lines = FaultInjectionTests.workload(6_000, seed: 21)
        let half = lines.count / 2
        let ref = FaultInjectionTests.queries(lines)[0]
        let tail = try TopicTail(["fi_tumbling_out"], bootstrap: bootstrap)
        defer { tail.stop() }
        try setup.produce(lines[..<half], bootstrap: bootstrap, name: "first")
        let engine = try setup.engine(bootstrap)
        #expect(setup.waitRead(half))
        #expect(setup.waitHealth("ok", code: 200, timeout: 10) != nil)

        broker.signal(SIGSTOP)
        let paused = Date()
        let detail = setup.waitHealth("degraded", code: 503, timeout: 15)
        #expect(detail?.contains("broker unreachable") == true, "health while the broker is paused: \(detail ?? "never degraded")")
        #expect(setup.metrics().contains("tally_broker_up 0"))
        Thread.sleep(forTimeInterval: max(0, Self.pause - Date().timeIntervalSince(paused)))
        broker.signal(SIGCONT)

        #expect(setup.waitHealth("ok", code: 200, timeout: 60) != nil, "health after the broker is back")
        try setup.produce(lines[half...], bootstrap: bootstrap, name: "second")
        #expect(setup.waitRead(lines.count))
        let expected = ref.reference.closedWindows
        #expect(tail.wait(for: "fi_tumbling_out", timeout: 60) { Set($0.map(\.key)).count >= expected.count })
        FaultInjectionTests.verify(tail.records(of: "fi_tumbling_out"), expected: expected, groupBy: ref.groupBy, query: ref.name)
        #expect(setup.metrics().contains("tally_broker_up 1"))
        #expect(engine.stderr.contains("broker unreachable"), "\(engine.stderr.suffix(2000))")
        #expect(engine.stderr.contains("broker reachable again"))
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0, "\(engine.stderr.suffix(2000))")
    }

    @Test func aRestartedBrokerLostItsDataAndTheEngineSaysSoThenGoesOn() async throws {
        try await onOwnThread { try Self().aRestartedBrokerLostItsDataAndTheEngineSaysSoThenGoesOnBody() }
    }

    func aRestartedBrokerLostItsDataAndTheEngineSaysSoThenGoesOnBody() throws {
        let setup = try Setup()
        var (broker, bootstrap) = try setup.broker("broker1")
        let lines = FaultInjectionTests.workload(6_000, seed: 22)
        let half = lines.count / 2
        let before = FaultInjectionTests.queries(Array(lines[..<half]))[0].reference
        let all = FaultInjectionTests.queries(lines)[0]
        try setup.produce(lines[..<half], bootstrap: bootstrap, name: "first")
        let engine = try setup.engine(bootstrap)
        #expect(setup.waitRead(half))
        Thread.sleep(forTimeInterval: 0.5)  // a checkpoint after the last event

        broker.signal(SIGTERM)
        #expect(broker.wait() != nil)
        let detail = setup.waitHealth("degraded", code: 503, timeout: 15)
        #expect(detail?.contains("broker unreachable") == true, "health while the broker is down: \(detail ?? "never degraded")")
        Thread.sleep(forTimeInterval: 3)
        (broker, bootstrap) = try setup.broker("broker2")  // same port, empty topics
        let tail = try TopicTail(["fi_tumbling_out"], bootstrap: bootstrap)
        defer { tail.stop() }
        #expect(setup.waitHealth("ok", code: 200, timeout: 60) != nil, "health after the broker is back")

        // Another cluster (a new id): its logs start at offset 0 again. The engine must notice
        // and read them from their beginning, not skip them as counted below its stored offsets.
        let deadline = Date().addingTimeInterval(30)
        while !engine.stderr.contains("the Kafka cluster changed") && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        #expect(engine.stderr.contains("the Kafka cluster changed"), "\(engine.stderr.suffix(2000))")
        try setup.produce(lines[half...], bootstrap: bootstrap, name: "second")
        #expect(setup.waitRead(lines.count), "events of the new log were not all read")
        let s = (try HTTPGet.get("\(setup.base)/queries/fi_tumbling")).json as? [String: Any]
        #expect((s?["events"] as? NSNumber)?.intValue == all.reference.outcomes["counted"])
        // Lost with the old broker: the results emitted before it went. Expected on the new one:
        // every window closed since, with values that include the events read before.
        let expected = all.reference.closedWindows.filter { before.closedWindows[$0.key] == nil }
        #expect(!expected.isEmpty)
        #expect(tail.wait(for: "fi_tumbling_out", timeout: 60) { Set($0.map(\.key)).count >= expected.count })
        FaultInjectionTests.verify(tail.records(of: "fi_tumbling_out"), expected: expected, groupBy: all.groupBy, query: all.name)
        #expect(setup.metrics().contains("tally_offset_rewinds_total 1"))
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0, "\(engine.stderr.suffix(2000))")
    }
}
