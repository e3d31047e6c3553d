import Foundation
import Kafka
import Tally
import Testing

/// `"repartition": true` with `--scale-out`: a source whose records are not keyed by the group
/// key (here: keyed by event time, so a customer's events are spread over every partition) reaches the
/// shards through `g-live-repartition`. Real processes on a real `tally broker`; results compared
/// with the plain reference.
@Suite(.serialized) struct RepartitionTests {
    static let definition = LiveEngineTests.definition.replacingOccurrences(of: "{\"name\":\"live\",", with: "{\"name\":\"live\",\"repartition\":true,")
    /// 4 source partitions, 6 shards: the shard count is the repartition topic's, not the source's.
    static let topics = [
        "orders:4", "live_out:6", "live_out.dlq:1", "g-live-repartition:6", "g-live-changelog:6", "g-instances:1",
    ]

    /// An event far ahead for every customer, each at its own time: keyed by time, they reach
    /// every source partition, so that each one's time moves past the last window.
    static let flush = (0..<150).map {
        "{\"event_type\":\"Flush\",\"customer_id\":\"c\($0)\",\"ts\":\(TallyTestCommandTests.base + 10_000_000 + Int64($0))}"
    }

    @Test func threeInstancesCountUnkeyedEventsExactlyThroughAKillAndAJoin() async throws {
        try await onOwnThread { try Self().threeInstancesBody() }
    }

    func threeInstancesBody() throws {
        let cluster = try ScaleOutTests.Cluster(definitions: [Self.definition], topics: Self.topics)
        let lines = TallyTestCommandTests.dataset(count: 30_000, seed: 41, disorder: 900, veryLate: false)
        let flush = Self.flush
        let ref = LiveEngineTests.reference(lines + flush)
        #expect(ref.outcomes["late", default: 0] == 0)
        let half = lines.count / 2
        try cluster.produce(Array(lines[..<half]), name: "first-half", keyed: false)
        let source = try Self.read("orders", cluster, atLeast: half)
        let customerC7 = source.filter { $0.value.contains("\"c7\"") }
        #expect(Set(customerC7.map(\.partition)).count == 4, "a customer's events are spread over the source's partitions")

        let ports = (0..<4).map { _ in freePort() }
        var instances = try (0..<3).map { try cluster.instance("i\($0)", http: ports[$0]) }
        // Each shard (a partition of the repartition topic) is owned by exactly one instance.
        var owned = cluster.awaitOwned(Array(ports[..<3]), count: 6)
        #expect(owned.flatMap { $0 }.sorted() == Array(0..<6), "shards owned: \(owned)")

        // Killed once it has counted events and checkpointed them: its routers' uncommitted
        // source offsets are routed again by their next owner, and skipped by the shards.
        #expect(cluster.awaitCountedAndCheckpointed(ports[0]), "the first instance counted events before it was killed")
        instances[0].signal(SIGKILL)
        _ = instances[0].wait(timeout: 10)
        try cluster.produce(Array(lines[half...]), name: "second-half", keyed: false)
        let moved = Date().addingTimeInterval(60)
        repeat {
            Thread.sleep(forTimeInterval: 0.5)
            owned = (1..<3).map { i in (cluster.status(ports[i])?["partitions"] as? [Int]) ?? [] }
        } while Date() < moved && owned.flatMap { $0 }.sorted() != Array(0..<6)
        #expect(owned.flatMap { $0 }.sorted() == Array(0..<6), "after the kill: \(owned)")
        instances.append(try cluster.instance("i3", http: ports[3]))
        let joined = Date().addingTimeInterval(60)
        while Date() < joined && ((cluster.status(ports[3])?["partitions"] as? [Int]) ?? []).isEmpty {
            Thread.sleep(forTimeInterval: 0.5)
        }
        let share = (cluster.status(ports[3])?["partitions"] as? [Int]) ?? []
        #expect(!share.isEmpty, "the new instance takes a share")
        try cluster.produce(flush, name: "flush", keyed: false)

        // Every window exact: no event lost or counted twice, none late although each shard
        // reads the source partitions interleaved (its watermark follows each source partition).
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)

        // Bad events reach the dead-letter topic as they were read from the source: its topic,
        // partition and offset in the headers, the same bytes.
        let sourceNow = try Self.read("orders", cluster, atLeast: lines.count + flush.count)
        var bySource: [String: [UInt8]] = [:]
        for r in sourceNow { bySource["\(r.partition)/\(r.offset)"] = r.payload }
        let rejected = ref.outcomes.filter { !["counted", "filtered", "late"].contains($0.key) }.values.reduce(0, +)
        let dead = try Self.read("live_out.dlq", cluster, atLeast: rejected)
        #expect(Set(dead.map { "\($0.headers["tally.partition"] ?? "")/\($0.headers["tally.offset"] ?? "")" }).count == rejected, "one dead letter per rejected event (\(rejected)), duplicates aside: \(dead.count)")
        for d in dead {
            #expect(d.headers["tally.topic"] == "orders", "\(d.headers)")
            let at = "\(d.headers["tally.partition"] ?? "")/\(d.headers["tally.offset"] ?? "")"
            #expect(bySource[at] == d.payload, "the dead letter of orders \(at) is the source record")
        }

        // Any instance answers for any key, with every window of it; the owner it names is the
        // instance owning the shard Kafka's partitioner gives the key.
        let live = [ports[1], ports[2], ports[3]]
        // (A cooperative rebalance after the join may still be moving shards: wait until every
        // one is owned again.)
        let stable = Date().addingTimeInterval(60)
        repeat {
            owned = live.map { (cluster.status($0)?["partitions"] as? [Int]) ?? [] }
            if owned.flatMap({ $0 }).sorted() == Array(0..<6) { break }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < stable
        let listed = cluster.status(ports[1])?["instances"] as? [[String: Any]] ?? []
        var ownerOf: [Int: String] = [:]
        for i in listed {
            for p in (i["partitions"] as? [Int]) ?? [] { ownerOf[p] = i["http"] as? String }
        }
        #expect(ownerOf.count == 6, "every shard has an owner: \(listed)")
        for c in stride(from: 2, to: 150, by: 13) {
            let expected = ref.closedWindows.filter { $0.key.hasPrefix("customer_id=\"c\(c)\"|") }
            let shard = Int((Murmur2.hash(GroupKey.encode([.string("c\(c)")])) & 0x7fff_ffff) % 6)
            for port in live {
                let answer = try HTTPGet.getWithHeaders("http://127.0.0.1:\(port)/queries/live/keys/c\(c)")
                #expect(answer.headers["x-tally-owner"] == ownerOf[shard], "c\(c) (shard \(shard)) asked of \(port)")
                let windows = (answer.json as? [String: Any])?["windows"] as? [[String: Any]] ?? []
                #expect(windows.count == expected.count, "c\(c) asked of \(port): \(windows.count) windows, reference \(expected.count); its status: \(String(describing: cluster.status(port)))")
                for w in windows {
                    let start = (w["start"] as? NSNumber)?.int64Value ?? -1
                    let n = ((w["values"] as? [String: Any])?["n"] as? NSNumber)?.intValue
                    #expect(n == expected["customer_id=\"c\(c)\"|\(start)"]?.events, "c\(c) \(start) asked of \(port)")
                }
            }
        }
        // An instance that does not own a key asks its owner first: one forward per such request
        // (12 keys asked of 3 instances, one of which owns each), however many instances there are.
        let forwards = live.map { Self.metric("tally_query_forwards_total", port: $0) }.reduce(0, +)
        #expect(forwards == 12 * 2, "forwarded requests: \(forwards)")
        var routed = 0.0
        for port in live { routed += Self.metric("tally_repartition_routed_total", port: port) }
        #expect(routed > 0, "the live instances routed events")
        ScaleOutTests.expectNoErrors(instances.enumerated())
        ScaleOutTests.stop(instances.enumerated().dropFirst())
    }

    /// Every routed record written a second time (as a router that moved before committing would):
    /// each shard counts each event once, and says how many it skipped.
    @Test func aRecordRoutedTwiceIsCountedOnce() async throws {
        try await onOwnThread { try Self().routedTwiceBody() }
    }

    func routedTwiceBody() throws {
        let cluster = try ScaleOutTests.Cluster(definitions: [Self.definition], topics: Self.topics)
        let lines = TallyTestCommandTests.dataset(count: 6_000, seed: 43, disorder: 900, veryLate: false)
        let flush = Self.flush
        let ref = LiveEngineTests.reference(lines + flush)
        try cluster.produce(lines, name: "data", keyed: false)
        let http = freePort()
        let first = try cluster.instance("a", http: http)
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            if let s = cluster.status(http), ["events", "filtered", "late", "rejected"].map({ (s[$0] as? Int) ?? 0 }).reduce(0, +) >= lines.count { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        first.signal(SIGTERM)
        #expect(first.wait(timeout: 60) == 0, "\(first.stderr.suffix(2000))")

        let routed = try Self.read("g-live-repartition", cluster, atLeast: lines.count)
        let events = routed.filter { ($0.keyBytes?.count ?? 0) >= 13 && $0.keyBytes![12] != 2 }
        #expect(events.count == lines.count, "every source record routed once: \(events.count)")
        let producer = try Producer(config: ["bootstrap.servers": cluster.bootstrap])
        for r in routed {
            try producer.produce(topic: "g-live-repartition", partition: r.partition, key: r.keyBytes, value: r.payload)
        }
        // And two records Tally did not write (an event that would count if it were taken):
        // dead-lettered as not routed, counted apart, not counted in any window.
        let stray = "{\"event_type\":\"OrderCreated\",\"customer_id\":\"c1\",\"total\":5,\"ts\":\(TallyTestCommandTests.base + 1000)}"
        try producer.produce(topic: "g-live-repartition", partition: 1, key: Array("not-routed".utf8), value: Array(stray.utf8))
        try producer.produce(topic: "g-live-repartition", partition: 4, key: nil, value: Array(stray.utf8))
        try producer.flush(timeout: .seconds(10))
        try cluster.produce(flush, name: "flush", keyed: false)

        let again = try cluster.instance("a", http: http)
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)
        let skipped = Self.metric("tally_repartition_duplicates_total", port: http)
        #expect(Int(skipped) == events.count, "every copy skipped: \(skipped) of \(events.count)")
        #expect(Self.metric("tally_repartition_foreign_total", port: http) == 2)
        let rejected = ref.outcomes.filter { !["counted", "filtered", "late"].contains($0.key) }.values.reduce(0, +)
        let notRouted = try Self.read("live_out.dlq", cluster, atLeast: rejected + 2).filter { $0.headers["tally.reason"] == "not-routed" }
        #expect(notRouted.count == 2 && notRouted.allSatisfy { $0.value == stray }, "\(notRouted.map(\.headers))")
        let s = cluster.status(http)
        #expect((s?["events"] as? Int) == ref.outcomes["counted", default: 0], "counted once: \(String(describing: s?["events"]))")
        again.signal(SIGTERM)
        #expect(again.wait(timeout: 60) == 0, "\(again.stderr.suffix(2000))")
    }

    /// One source, two definitions: one reads it as it is (it is keyed by the group key), the
    /// other repartitions it. The pipeline resumes each source partition at the lower of the
    /// first's stored offset and the routers' commit; a kill and a join move both.
    @Test func aSourceReadAsItIsByOneDefinitionAndRepartitionedByAnother() async throws {
        try await onOwnThread { try Self().mixedBody() }
    }

    func mixedBody() throws {
        let routed = Self.definition.replacingOccurrences(of: "\"name\":\"live\"", with: "\"name\":\"live2\"")
            .replacingOccurrences(of: "\"output\":\"live_out\"", with: "\"output\":\"live2_out\"")
        let cluster = try ScaleOutTests.Cluster(
            definitions: [LiveEngineTests.definition, routed],
            topics: [
                "orders:4", "live_out:4", "live_out.dlq:1", "live2_out:4", "live2_out.dlq:1", "g-live-changelog:4",
                "g-live2-repartition:4", "g-live2-changelog:4", "g-instances:1",
            ])
        let lines = TallyTestCommandTests.dataset(count: 12_000, seed: 47, disorder: 900, veryLate: false)
        let flush = ScaleOutTests.flush
        let ref = LiveEngineTests.reference(lines + flush)
        let half = lines.count / 2
        try cluster.produce(Array(lines[..<half]), name: "first-half")
        let ports = (0..<3).map { _ in freePort() }
        var instances = try (0..<2).map { try cluster.instance("m\($0)", http: ports[$0]) }
        // The first is killed once both definitions counted events there and a checkpoint followed.
        #expect(
            cluster.awaitCountedAndCheckpointed(ports[0], queries: ["live", "live2"]),
            "both definitions counted events on the first instance before it was killed")
        instances[0].signal(SIGKILL)
        _ = instances[0].wait(timeout: 10)
        try cluster.produce(Array(lines[half...]), name: "second-half")
        instances.append(try cluster.instance("m2", http: ports[2]))
        try cluster.produce(flush, name: "flush")
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count), ref)
        try LiveEngineTests.verify(try cluster.output(expected: ref.closedWindows.count, topic: "live2_out"), ref)
        ScaleOutTests.expectNoErrors(instances.enumerated().dropFirst())
        ScaleOutTests.stop(instances.enumerated().dropFirst())
    }

    @Test func aMissingRepartitionTopicIsNamedWithTheWayToCreateIt() async throws {
        try await onOwnThread {
            let cluster = try ScaleOutTests.Cluster(
                definitions: [Self.definition], topics: ["orders:4", "live_out:4", "live_out.dlq:1", "g-live-changelog:2", "g-instances:1"])
            let run = try ChildProcess(cluster.instanceArguments("a", http: freePort()), in: cluster.dir.url, name: "run")
            #expect(run.wait(timeout: 60) == 1, "\(run.stderr.suffix(2000))")
            // The mock broker creates a topic on first use, with its default partition count: the
            // changelog then has the wrong size. A real cluster refuses the missing topic itself.
            #expect(run.stderr.contains("g-live-repartition"), "\(run.stderr.suffix(2000))")
        }
    }

    /// Every record of `topic`, once there are at least `count` (or a minute passed): a read may
    /// end before the first record arrives when the machine is busy.
    static func read(_ topic: String, _ cluster: ScaleOutTests.Cluster, atLeast count: Int) throws -> [TopicReader.Record] {
        let deadline = Date().addingTimeInterval(60)
        var records: [TopicReader.Record] = []
        repeat {
            records = try TopicReader.read(topic, bootstrap: cluster.bootstrap, quiet: 1.0)
        } while records.count < count && Date() < deadline
        return records
    }

    /// The sum of the samples of `name` in `/metrics` of the instance on `port`.
    static func metric(_ name: String, port: Int) -> Double {
        let text = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix(name) }.compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
    }
}
