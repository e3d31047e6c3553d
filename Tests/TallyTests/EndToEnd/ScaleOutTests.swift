import Foundation
import Kafka
import Testing

/// `tally run --scale-out`: instances of one group share an 8-partition source through Kafka's
/// group protocol, each owned partition a shard whose state also goes to the changelog. Real
/// processes on a real `tally broker`; the union of their output is compared with the plain
/// reference. (The mock broker ends each rebalance on a timer — 3 s for the first join,
/// `session.timeout.ms` − 1 s after — and drops a killed member at its session's end.)
@Suite(.serialized) struct ScaleOutTests {
    static let partitions = 8
    /// A short session: a killed instance's partitions move after ~11 s instead of ~90 s.
    static let groupProperties = [
        "--kafka-property", "consumer.session.timeout.ms=6000", "--kafka-property", "consumer.heartbeat.interval.ms=500",
    ]

    struct Cluster {
        let dir: TemporaryFolder
        let broker: TestBroker
        let bootstrap: String
        let definitionPath: String

        /// `definitions`: the instances' (one file each in a folder); `topics`: the broker's
        /// (`name:partitions`), by default an 8-partition source and its changelog.
        init(definitions: [String] = [LiveEngineTests.definition], topics: [String]? = nil) throws {
            dir = try TemporaryFolder("tally-scale-out")
            let n = ScaleOutTests.partitions
            let topics = topics ?? ["orders:\(n)", "live_out:\(n)", "live_out.dlq:1", "g-live-changelog:\(n)", "g-instances:1"]
            broker = try TestBroker(topics: topics, in: dir.url)
            bootstrap = broker.bootstrap
            definitionPath = dir.url.appendingPathComponent("queries").path
            try FileManager.default.createDirectory(atPath: definitionPath, withIntermediateDirectories: true)
            for (i, d) in definitions.enumerated() {
                try d.write(toFile: "\(definitionPath)/q\(i).json", atomically: true, encoding: .utf8)
            }
        }

        /// Events keyed by the group key (all of a customer's land on one partition), or
        /// (`keyed` false) by their time: a customer's events spread over every partition.
        func produce(_ lines: [String], name: String, keyed: Bool = true) throws {
            try TallyBinary.produce(lines, bootstrap: bootstrap, keyField: keyed ? "customer_id" : "ts", in: dir.url, name: name)
        }

        /// An instance of group `g` with its own state folder and HTTP port.
        func instance(_ name: String, http: Int) throws -> ChildProcess {
            try ChildProcess(instanceArguments(name, http: http), in: dir.url, name: name)
        }

        func instanceArguments(_ name: String, http: Int) -> [String] {
            ["run", "--queries", definitionPath, "--bootstrap", bootstrap, "--group", "g", "--scale-out",
             "--state", dir.url.appendingPathComponent("state-\(name)").path,
             "--http", "127.0.0.1:\(http)", "--checkpoint-interval", "200ms", "--idle-timeout", "60s",
             "--retention", "30d"] + ScaleOutTests.groupProperties
        }

        /// Every result emitted to `topic`, once `expected` distinct ones arrived (or two minutes passed).
        func output(expected: Int, topic: String = "live_out") throws -> [TopicReader.Record] {
            let deadline = Date().addingTimeInterval(120)
            var records: [TopicReader.Record] = []
            repeat {
                records = try TopicReader.read(topic, bootstrap: bootstrap, quiet: 1.0)
            } while Set(records.map(\.key)).count < expected && Date() < deadline
            return records
        }

        /// `/queries/{query}` of the instance on `http`, nil while it does not answer.
        func status(_ http: Int, query: String = "live") -> [String: Any]? {
            (try? HTTPGet.get("http://127.0.0.1:\(http)/queries/\(query)"))?.json as? [String: Any]
        }

        /// Waits (a minute at most) until the instances on `ports` each own partitions and
        /// together own `0..<count`; returns what each owns then.
        func awaitOwned(_ ports: [Int], count: Int) -> [[Int]] {
            var owned: [[Int]] = []
            let settled = Date().addingTimeInterval(60)
            repeat {
                Thread.sleep(forTimeInterval: 0.5)
                owned = ports.map { (status($0)?["partitions"] as? [Int]) ?? [] }
            } while Date() < settled && (owned.contains(where: \.isEmpty) || owned.flatMap { $0 }.sorted() != Array(0..<count))
            return owned
        }

        /// Waits (a minute at most) until the instance on `http` has counted events of each of
        /// `queries` and checkpointed after that; false when it did not.
        func awaitCountedAndCheckpointed(_ http: Int, queries: [String] = ["live"]) -> Bool {
            let deadline = Date().addingTimeInterval(60)
            var since: Int64?
            while Date() < deadline {
                let statuses = queries.map { status(http, query: $0) }
                let checkpoint = (statuses[0]?["lastCheckpoint"] as? NSNumber)?.int64Value ?? 0
                if since == nil, statuses.allSatisfy({ ($0?["events"] as? Int) ?? 0 > 0 }) {
                    since = Int64(Date().timeIntervalSince1970 * 1000)
                }
                if let since, checkpoint > since + 500 { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
    }

    /// Expects no error or critical line in the logs of the numbered instances (e.g. "offsets …
    /// went back": a partition read again from an earlier offset).
    static func expectNoErrors(_ instances: some Sequence<(offset: Int, element: ChildProcess)>) {
        for (i, instance) in instances {
            let errors = instance.stderr.split(separator: "\n").filter { $0.contains(" error ") || $0.contains(" critical ") }
            #expect(errors.isEmpty, "instance \(i) reported errors:\n\(errors.joined(separator: "\n"))")
        }
    }

    /// `GET url`, asked again until `complete` holds for the answer or 30 s passed (a cooperative
    /// rebalance's second round can leave a key's shard without an owner for a few seconds); the
    /// last answer.
    static func getSettled(
        _ url: String, until complete: ((status: Int, json: Any?, headers: [String: String])) -> Bool
    ) throws -> (status: Int, json: Any?, headers: [String: String]) {
        let deadline = Date().addingTimeInterval(30)
        var answer = try HTTPGet.getWithHeaders(url)
        while !complete(answer) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            answer = try HTTPGet.getWithHeaders(url)
        }
        return answer
    }

    /// The windows of a key answer.
    static func windows(_ answer: (status: Int, json: Any?, headers: [String: String])) -> [[String: Any]] {
        (answer.json as? [String: Any])?["windows"] as? [[String: Any]] ?? []
    }

    /// Stops the numbered instances with SIGTERM; each must exit 0 (after its final checkpoint).
    static func stop(_ instances: some Sequence<(offset: Int, element: ChildProcess)>) {
        for (i, instance) in instances {
            instance.signal(SIGTERM)
            #expect(instance.wait(timeout: 60) == 0, "instance \(i): \(instance.stderr.suffix(2000))")
        }
    }

    /// An event far ahead for every customer: every partition closes its windows.
    static let flush = (0..<150).map {
        "{\"event_type\":\"Flush\",\"customer_id\":\"c\($0)\",\"ts\":\(TallyTestCommandTests.base + 10_000_000)}"
    }

    @Test func threeInstancesShareEightPartitionsThroughAKillAndAJoin() async throws {
        try await onOwnThread { try Self().threeInstancesShareEightPartitionsThroughAKillAndAJoinBody() }
    }

    func threeInstancesShareEightPartitionsThroughAKillAndAJoinBody() throws {
        let cluster = try Cluster()
        // Disorder stays under the grace, so no event is late whatever the order in which the
        // instances read the partitions, before or after a partition moves.
        let lines = TallyTestCommandTests.dataset(count: 40_000, seed: 17, disorder: 900, veryLate: false)
        let flush = Self.flush
        let ref = LiveEngineTests.reference(lines + flush)
        #expect(ref.outcomes["late", default: 0] == 0)
        let half = lines.count / 2
        try cluster.produce(Array(lines[..<half]), name: "first-half")

        let ports = (0..<4).map { _ in freePort() }
        var instances = try (0..<3).map { try cluster.instance("i\($0)", http: ports[$0]) }
        // The group settles: every partition owned by exactly one of the three.
        var owned = cluster.awaitOwned(Array(ports[..<3]), count: Self.partitions)
        #expect(owned.flatMap { $0 }.sorted() == Array(0..<Self.partitions), "partitions owned: \(owned)")
        let everyOneOwnsSome = owned.allSatisfy { !$0.isEmpty }
        #expect(everyOneOwnsSome, "each of the three owns some: \(owned)")

        // Mid-stream: once the first instance has counted events and checkpointed them, it is
        // killed, and the second half arrives while its partitions wait for a new owner.
        #expect(cluster.awaitCountedAndCheckpointed(ports[0]), "the first instance counted events before it was killed")
        instances[0].signal(SIGKILL)
        _ = instances[0].wait(timeout: 10)
        try cluster.produce(Array(lines[half...]), name: "second-half")
        // Its partitions move to the two others (after its session ends), then a new instance joins.
        let moved = Date().addingTimeInterval(60)
        repeat {
            Thread.sleep(forTimeInterval: 0.5)
            owned = (1..<3).map { i in (cluster.status(ports[i])?["partitions"] as? [Int]) ?? [] }
        } while Date() < moved && owned.flatMap { $0 }.sorted() != Array(0..<Self.partitions)
        #expect(owned.flatMap { $0 }.sorted() == Array(0..<Self.partitions), "after the kill: \(owned)")
        instances.append(try cluster.instance("i3", http: ports[3]))
        let joined = Date().addingTimeInterval(60)
        while Date() < joined && ((cluster.status(ports[3])?["partitions"] as? [Int]) ?? []).isEmpty {
            Thread.sleep(forTimeInterval: 0.5)
        }
        let share = (cluster.status(ports[3])?["partitions"] as? [Int]) ?? []
        #expect(!share.isEmpty, "the new instance takes a share")
        try cluster.produce(flush, name: "flush")

        // The union of everything the instances emitted: every window of the reference, right,
        // duplicates (replayed after the kill or a move) identical.
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)

        // Any instance answers for any key: the last windows (closed by the flush, where each
        // key's partition now is) come from the key's owner, named in X-Tally-Owner, whichever
        // instance is asked. Each instance lists the others with their partitions.
        let live = [ports[1], ports[2], ports[3]]
        for port in live {
            let instances = cluster.status(port)?["instances"] as? [[String: Any]] ?? []
            let listed = instances.flatMap { ($0["partitions"] as? [Int]) ?? [] }.sorted()
            #expect(instances.count == 3 && listed == Array(0..<Self.partitions), "instances seen from \(port): \(instances)")
        }
        let last = ref.closedWindows.keys.compactMap { Int64($0.split(separator: "|").last!) }.max()!
        var owners: Set<String> = []
        for c in stride(from: 0, to: 150, by: 7) {
            let id = "customer_id=\"c\(c)\"|\(last)"
            guard let acc = ref.closedWindows[id] else { continue }
            var answers: Set<String> = []
            for port in live {
                let answer = try Self.getSettled("http://127.0.0.1:\(port)/queries/live/keys/c\(c)?from=\(last)") { Self.windows($0).count == 1 }
                let windows = Self.windows(answer)
                let n = ((windows.first?["values"] as? [String: Any])?["n"] as? NSNumber)?.intValue
                #expect(answer.status == 200 && windows.count == 1 && n == acc.events, "c\(c) asked of \(port): \(String(describing: answer.json))")
                #expect(answer.headers["x-tally-owner"] != nil, "c\(c) asked of \(port)")
                answers.insert(answer.headers["x-tally-owner"] ?? "none")
            }
            #expect(answers.count == 1, "c\(c): every instance names the same owner: \(answers)")
            owners.formUnion(answers)
        }
        #expect(owners.count > 1, "keys of several owners were asked: \(owners)")
        // And every window of a key, whichever instance closed it: a shard's closed results move
        // with it (through its changelog), including those closed by the killed instance.
        for c in stride(from: 3, to: 150, by: 11) {
            let expected = ref.closedWindows.filter { $0.key.hasPrefix("customer_id=\"c\(c)\"|") }
            for port in live {
                let answer = try Self.getSettled("http://127.0.0.1:\(port)/queries/live/keys/c\(c)") { Self.windows($0).count == expected.count }
                let windows = Self.windows(answer)
                #expect(windows.count == expected.count, "c\(c) asked of \(port): \(windows.count) windows, reference \(expected.count)")
                for w in windows {
                    let start = (w["start"] as? NSNumber)?.int64Value ?? -1
                    let n = ((w["values"] as? [String: Any])?["n"] as? NSNumber)?.intValue
                    #expect(w["final"] as? Bool == true && n == expected["customer_id=\"c\(c)\"|\(start)"]?.events, "c\(c) \(start) asked of \(port)")
                }
            }
        }
        Self.expectNoErrors(instances.enumerated())
        Self.stop(instances.enumerated().dropFirst())
    }

    @Test func aRestartedInstanceKeepsItsCurrentLocalStateAndALostFolderComesBackFromTheChangelog() async throws {
        try await onOwnThread { try Self().aRestartedInstanceKeepsItsCurrentLocalStateBody() }
    }

    func aRestartedInstanceKeepsItsCurrentLocalStateBody() throws {
        let cluster = try Cluster()
        let lines = TallyTestCommandTests.dataset(count: 20_000, seed: 23, disorder: 900, veryLate: false)
        let flush = Self.flush
        let ref = LiveEngineTests.reference(lines + flush)
        let third = lines.count / 3
        let http = freePort()
        func runUntilRead(_ name: String, _ count: Int) throws -> ChildProcess {
            let instance = try cluster.instance(name, http: http)
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if let s = cluster.status(http), ["events", "filtered", "late", "rejected"].map({ (s[$0] as? Int) ?? 0 }).reduce(0, +) >= count { break }
                Thread.sleep(forTimeInterval: 0.2)
            }
            return instance
        }
        // One instance reads a third, stops cleanly (a final checkpoint), and starts again on
        // the same folder: its state is current, so nothing is rebuilt from the changelog.
        try cluster.produce(Array(lines[..<third]), name: "first")
        let first = try runUntilRead("a", third)
        first.signal(SIGTERM)
        #expect(first.wait(timeout: 60) == 0, "\(first.stderr.suffix(2000))")
        try cluster.produce(Array(lines[third..<(2 * third)]), name: "second")
        let again = try runUntilRead("a", 2 * third)
        #expect(again.stderr.contains("took over"))
        #expect(!again.stderr.contains("rebuilt from"), "local state was current: \(again.stderr.suffix(2000))")
        again.signal(SIGTERM)
        #expect(again.wait(timeout: 60) == 0)
        // Its folder is lost: the same instance rebuilds every shard from the changelog.
        try FileManager.default.removeItem(at: cluster.dir.url.appendingPathComponent("state-a"))
        try cluster.produce(Array(lines[(2 * third)...]) + flush, name: "rest")
        let rebuilt = try cluster.instance("a", http: http)
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)
        #expect(rebuilt.stderr.contains("rebuilt from g-live-changelog"), "\(rebuilt.stderr.suffix(2000))")
        rebuilt.signal(SIGTERM)
        #expect(rebuilt.wait(timeout: 60) == 0)
    }

    /// (A topic that does not exist at all is created by the mock broker on first use, with its
    /// default partition count; a real cluster with auto-creation off refuses it the same way.)
    @Test func aChangelogTopicOfTheWrongSizeIsNamedWithTheWayToCreateIt() async throws {
        try await onOwnThread { try Self().aChangelogTopicOfTheWrongSizeIsNamedBody() }
    }

    func aChangelogTopicOfTheWrongSizeIsNamedBody() throws {
        let dir = try TemporaryFolder("tally-scale-out-topics")
        let definition = dir.url.appendingPathComponent("live.json").path
        try LiveEngineTests.definition.write(toFile: definition, atomically: true, encoding: .utf8)
        for (topics, missing, hint) in [
            (["orders:4", "live_out:4", "live_out.dlq:1", "g-live-changelog:2", "g-instances:1"], "g-live-changelog", "--topic g-live-changelog:4"),
            (["orders:4", "live_out:4", "live_out.dlq:1", "g-live-changelog:6", "g-instances:1"], "g-live-changelog", "--topic g-live-changelog:4"),
        ] {
            let broker = try TestBroker(topics: topics, in: dir.url, name: "broker-\(topics[3])")
            let bootstrap = broker.bootstrap
            let run = try ChildProcess(
                ["run", "--queries", definition, "--bootstrap", bootstrap, "--group", "g", "--scale-out",
                 "--state", dir.url.appendingPathComponent("state-\(topics[3])").path, "--http", "127.0.0.1:\(freePort())"],
                in: dir.url, name: "run-\(topics[3])")
            #expect(run.wait(timeout: 60) == 1, "\(run.stderr.suffix(2000))")
            #expect(run.stderr.contains(missing) && run.stderr.contains(hint), "\(run.stderr.suffix(2000))")
            broker.signal(SIGTERM)
            _ = broker.wait(timeout: 10)
        }
    }

    @Test func shardsUnderAMemoryBudgetSpillAndStayExactAcrossAKill() async throws {
        try await onOwnThread { try Self().shardsUnderAMemoryBudgetSpillBody() }
    }

    func shardsUnderAMemoryBudgetSpillBody() throws {
        let cluster = try Cluster()
        // 8,000 customers: megabytes of window state against a 64 KB budget.
        var rng = SplitMix(seed: 31)
        var lines: [String] = []
        for i in 0..<40_000 {
            let t = TallyTestCommandTests.base + Int64(i) * 15
            let total = Double(rng.int(100...50_000)) / 100
            lines.append("{\"event_type\":\"OrderCreated\",\"customer_id\":\"c\(rng.below(8_000))\",\"total\":\(total),\"ts\":\(t)}")
        }
        let flush = (0..<400).map {
            "{\"event_type\":\"Flush\",\"customer_id\":\"c\($0)\",\"ts\":\(TallyTestCommandTests.base + 10_000_000)}"
        }
        let ref = LiveEngineTests.reference(lines + flush)
        let http = freePort()
        let budget = ["--memory-budget", "64KB"]
        try cluster.produce(lines, name: "data")
        let first = try ChildProcess(cluster.instanceArguments("a", http: http) + budget, in: cluster.dir.url, name: "a1")
        // Killed once half the events are counted and a checkpoint followed.
        let deadline = Date().addingTimeInterval(60)
        var since: Int64?
        while Date() < deadline {
            let s = cluster.status(http)
            if since == nil, (s?["events"] as? Int) ?? 0 >= lines.count / 2 { since = Int64(Date().timeIntervalSince1970 * 1000) }
            if let since, ((s?["lastCheckpoint"] as? NSNumber)?.int64Value ?? 0) > since + 300 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let metrics = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(http)/metrics")!, encoding: .utf8)) ?? ""
        let spilled = metrics.split(separator: "\n").first { $0.hasPrefix("tally_spilled_accumulators_total") }
            .flatMap { Double($0.split(separator: " ").last!) } ?? 0
        #expect(spilled > 0, "the shards spilled under the budget: \(metrics.prefix(3000))")
        first.signal(SIGKILL)
        _ = first.wait(timeout: 10)
        try cluster.produce(flush, name: "flush")
        let second = try ChildProcess(cluster.instanceArguments("a", http: http) + budget, in: cluster.dir.url, name: "a2")
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)
        second.signal(SIGTERM)
        #expect(second.wait(timeout: 60) == 0, "\(second.stderr.suffix(2000))")
    }
}
