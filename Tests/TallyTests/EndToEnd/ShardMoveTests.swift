import Foundation
import Testing

/// `tally run --scale-out` when shards move to instances that are already running and ahead
/// (issue 19): each shard closes windows at its own watermark, which moves with it, so an event
/// in time within its own partition is never late, lost or counted twice because its shard
/// moved — through two kills and a join, with shards that move twice, for a definition read as
/// it is and one that repartitions. Real processes on a real `tally broker`; the union of the
/// output topics is compared with a reference computed here from the raw events.
@Suite(.serialized) struct ShardMoveTests {
    static let partitions = 8
    static let grace: Int64 = 2_000
    /// Per device, tumbling 1-minute windows; the source is keyed by device, so read as it is.
    static let byDevice = """
        {"name":"dev","source":"readings","where":[{"field":"type","op":"eq","value":"reading"}],
         "groupBy":["device"],"time":{"field":"ts","format":"epoch_ms"},
         "window":{"type":"tumbling","size":"1m","grace":"2s"},
         "aggregates":[{"name":"n","fn":"count"},{"name":"total","fn":"sum","field":"v"}],"output":"dev_out"}
        """
    /// Per site (sites span every partition), sliding windows through the repartition topic. Its
    /// grace (1 min) outlasts what the watermark can run ahead when the partitions, quiet during
    /// a kill or a join for longer than the idle timeout, come back one after the other (a part
    /// spans ~25 s of event time): that would close windows early for one instance too.
    static let bySite = """
        {"name":"site","source":"readings","repartition":true,"where":[{"field":"type","op":"eq","value":"reading"}],
         "groupBy":["site"],"time":{"field":"ts","format":"epoch_ms"},
         "window":{"type":"sliding","size":"2m","slide":"30s","grace":"1m"},
         "aggregates":[{"name":"n","fn":"count"},{"name":"total","fn":"sum","field":"v"}],"output":"site_out"}
        """
    static let topics = [
        "readings:8", "dev_out:8", "dev_out.dlq:1", "site_out:8", "site_out.dlq:1", "g-dev-changelog:8",
        "g-site-repartition:8", "g-site-changelog:8", "g-instances:1",
    ]
    static let base: Int64 = 1_764_000_000_000

    struct Event {
        let partition: Int
        let device: Int
        let time: Int64
        let value: Int
        var type = "reading"
        var line: String {
            #"{"type":"\#(type)","device":"d\#(device)","site":"s\#(device % 13)","ts":\#(time),"v":\#(value)}"#
        }
    }

    /// Per partition, events in time order up to 900 ms of disorder (under the 2 s grace), every
    /// partition's clock at its own pace around the same time: every event is in time within its
    /// own partition.
    static func events(perPartition: Int, seed: UInt64) -> [[Event]] {
        var rng = SplitMix(seed: seed)
        return (0..<partitions).map { p in
            var clock = base
            return (0..<perPartition).map { _ in
                clock += Int64(rng.below(60))
                let device = p + partitions * rng.below(6)  // a device lives on one partition
                return Event(partition: p, device: device, time: clock - Int64(rng.below(900)), value: rng.below(1000))
            }
        }
    }

    /// Window → (count, sum): `dev|d3|start` and `site|s1|start`.
    static func reference(_ events: [[Event]]) -> [String: (n: Int, total: Int)] {
        var out: [String: (n: Int, total: Int)] = [:]
        func add(_ id: String, _ v: Int) {
            let old = out[id] ?? (0, 0)
            out[id] = (old.n + 1, old.total + v)
        }
        for e in events.joined() {
            add("dev|d\(e.device)|\(e.time / 60_000 * 60_000)", e.value)
            var start = e.time / 30_000 * 30_000
            while start > e.time - 120_000 {
                add("site|s\(e.device % 13)|\(start)", e.value)
                start -= 30_000
            }
        }
        return out
    }

    @Test func shardsMovedToRunningInstancesThatAreAheadCountNothingLate() async throws {
        try await onOwnThread { try Self().body() }
    }

    func produce(_ cluster: ScaleOutTests.Cluster, _ events: [[Event]], _ range: Range<Int>, name: String) throws {
        for p in 0..<Self.partitions {
            let file = cluster.dir.url.appendingPathComponent("\(name)-\(p).jsonl")
            try (events[p][range].map(\.line).joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            let r = try TallyBinary.run([
                "produce", "--bootstrap", cluster.bootstrap, "--topic", "readings", "--key-field", "device", "--partition", "\(p)",
                file.path,
            ])
            guard r.status == 0 else { throw TestFailure("produce failed: \(r.stderr)") }
        }
    }

    /// The partitions the instance on `port` owns for both definitions (`dev`'s source, `site`'s
    /// repartition topic).
    func owned(_ cluster: ScaleOutTests.Cluster, _ port: Int) -> (dev: [Int], site: [Int]) {
        ((cluster.status(port, query: "dev")?["partitions"] as? [Int]) ?? [], (cluster.status(port, query: "site")?["partitions"] as? [Int]) ?? [])
    }

    /// Waits (90 s at most) until the instances on `ports` together own every partition of both
    /// topics, each some; returns what each owns.
    func settle(_ cluster: ScaleOutTests.Cluster, _ ports: [Int]) -> [(dev: [Int], site: [Int])] {
        let all = Array(0..<Self.partitions)
        var owned: [(dev: [Int], site: [Int])] = []
        let deadline = Date().addingTimeInterval(90)
        repeat {
            Thread.sleep(forTimeInterval: 0.5)
            owned = ports.map { self.owned(cluster, $0) }
        } while Date() < deadline
            && (owned.flatMap(\.dev).sorted() != all || owned.flatMap(\.site).sorted() != all || owned.contains { $0.dev.isEmpty })
        #expect(owned.flatMap(\.dev).sorted() == all && owned.flatMap(\.site).sorted() == all, "owned: \(owned)")
        return owned
    }

    func body() throws {
        let cluster = try ScaleOutTests.Cluster(definitions: [Self.byDevice, Self.bySite], topics: Self.topics)
        let events = Self.events(perPartition: 2_500, seed: 19)
        let flush = (0..<Self.partitions).map { p in
            [Event(partition: p, device: p, time: Self.base + 50_000_000, value: 0, type: "flush")]
        }
        let ref = Self.reference(events)
        let ports = (0..<4).map { _ in freePort() }
        // The default idle timeout, 10 s: the pauses between the parts (a kill, a join) are
        // longer, so partitions go idle and come back, and a killed instance's partitions wait
        // for an owner longer than that.
        func start(_ i: Int) throws -> ChildProcess {
            let args = cluster.instanceArguments("i\(i)", http: ports[i]).map { $0 == "60s" ? "10s" : $0 }
            return try ChildProcess(args, in: cluster.dir.url, name: "i\(i)")
        }

        // a, b and c share the partitions and count the first 40% of every partition.
        try produce(cluster, events, 0..<1_000, name: "first")
        var instances = try (0..<3).map(start)
        let first = settle(cluster, Array(ports[..<3]))
        #expect(cluster.awaitCountedAndCheckpointed(ports[1], queries: ["dev"]))

        // b is killed; while its shards wait for an owner, the next 30% arrives and a and c read
        // their own shards ahead of b's last checkpoint; then they take b's shards over.
        instances[1].signal(SIGKILL)
        _ = instances[1].wait(timeout: 10)
        try produce(cluster, events, 1_000..<1_750, name: "second")
        _ = settle(cluster, [ports[0], ports[2]])

        // d joins and takes a share; then a is killed: its shards, b's former ones among them,
        // move again, to c and d, which have read on meanwhile.
        instances.append(try start(3))
        _ = settle(cluster, [ports[0], ports[2], ports[3]])
        let aHeld = owned(cluster, ports[0])
        let movedTwice = Set(first[1].dev).intersection(aHeld.dev).union(Set(first[1].site).intersection(aHeld.site))
        instances[0].signal(SIGKILL)
        _ = instances[0].wait(timeout: 10)
        try produce(cluster, events, 1_750..<2_500, name: "third")
        _ = settle(cluster, [ports[2], ports[3]])
        try produce(cluster, flush, 0..<1, name: "flush")

        // The union of the output topics: every window of the reference, right; duplicates
        // (replayed after a kill) identical.
        let records = try readResults(cluster, expected: ref.count)
        var got: [String: (n: Int, total: Int)] = [:]
        var text: [String: String] = [:]
        for r in records {
            if let earlier = text[r.key] { #expect(earlier == r.value, "a duplicate of \(r.key) differs") }
            text[r.key] = r.value
            let rec = try JSONSerialization.jsonObject(with: Data(r.value.utf8)) as! [String: Any]
            let key = rec["key"] as! [String: Any]
            let start = ((rec["window"] as! [String: Any])["start"] as! NSNumber).int64Value
            let values = rec["values"] as! [String: Any]
            let query = rec["query"] as! String
            let id = "\(query)|\(query == "dev" ? key["device"] as! String : key["site"] as! String)|\(start)"
            got[id] = ((values["n"] as! NSNumber).intValue, (values["total"] as! NSNumber).intValue)
        }
        let missing = ref.keys.filter { got[$0] == nil }
        let wrong = ref.filter { id, v in got[id].map { $0 != v } ?? false }
        let extra = got.keys.filter { ref[$0] == nil }
        #expect(missing.isEmpty && wrong.isEmpty && extra.isEmpty, """
            of \(ref.count) windows: \(missing.count) missing (dev \(missing.filter { $0.hasPrefix("dev") }.count)), \
            \(wrong.count) wrong (e.g. \(wrong.first.map { "\($0.key): \($0.value) got \(got[$0.key]!)" } ?? "-")), \(extra.count) extra
            """)

        // No event was late: none dead-lettered as late, none counted late by the instances left.
        for dlq in ["dev_out.dlq", "site_out.dlq"] {
            let late = try TopicReader.read(dlq, bootstrap: cluster.bootstrap, quiet: 1.0).filter { $0.headers["tally.reason"] == "late" }
            #expect(late.isEmpty, "\(late.count) events dead-lettered as late in \(dlq)")
        }
        for port in [ports[2], ports[3]] {
            for q in ["dev", "site"] { #expect(cluster.status(port, query: q)?["late"] as? Int == 0, "\(q) on \(port)") }
        }
        #expect(!movedTwice.isEmpty, "some of b's shards were a's when a was killed: b \(first[1]), a \(aHeld)")
        let left = [(offset: 2, element: instances[2]), (offset: 3, element: instances[3])]
        ScaleOutTests.expectNoErrors(left)
        ScaleOutTests.stop(left)
    }

    /// Every result of both output topics, once `expected` distinct ones arrived (or two minutes passed).
    func readResults(_ cluster: ScaleOutTests.Cluster, expected: Int) throws -> [TopicReader.Record] {
        let deadline = Date().addingTimeInterval(120)
        var records: [TopicReader.Record] = []
        repeat {
            records = try ["dev_out", "site_out"].flatMap { try TopicReader.read($0, bootstrap: cluster.bootstrap, quiet: 1.0) }
        } while Set(records.map(\.key)).count < expected && Date() < deadline
        return records
    }
}
