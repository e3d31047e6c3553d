import Foundation
import Tally
import Testing

/// `tally bench`, small: every step runs against its embedded broker and reports figures, live
/// results match the offline run's, the spill step's results match its orders, and its built-in
/// queries are the README benchmark's files.
@Suite struct BenchCommandTests {
    @Test func aSmallBenchReportsEveryFigureWithExactLiveResults() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-bench-test-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        // ~25 s of waiting for the child: on a thread of its own, not one of Swift's two
        // cooperative threads here (other suites' async servers need them meanwhile).
        let r = try await withCheckedThrowingContinuation { (c: CheckedContinuation<TallyBinary.Output, Error>) in
            Thread.detachNewThread {
                c.resume(with: Result {
                    try TallyBinary.run(["bench", "--events", "40000", "--runs", "1", "--rate", "5000", "--latency-seconds", "2", "--spill-keys", "30000", "--spill-budget", "256KB", "--work", dir.path])
                })
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        var rows: [String: String] = [:]  // measure -> median
        for line in r.stdout.split(separator: "\n") {
            let columns = line.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            if columns.count >= 2 { rows[columns[0]] = columns[1] }
        }
        func number(_ measure: String) -> Double? { rows[measure].flatMap { Double($0.replacingOccurrences(of: ",", with: "")) } }
        for measure in ["offline tumbling (events/s, one thread)", "offline hopping (events/s, one thread)",
                        "live tumbling (events/s)", "live hopping (events/s)", "live tumbling peak RSS (MB)",
                        "restart to /health 200 with 40,000 windows (ms)", "start-up to --help (ms, 20 launches)",
                        "executable size (MB)"] {
            #expect((number(measure) ?? 0) > 0, "\(measure) in:\n\(r.stdout)")
        }
        #expect(rows["live tumbling results vs offline"] == "exact", "\(r.stdout)")
        // Probes every 20 ms for 2 s: most of them are seen, each after some positive time.
        #expect((number("latency produce -> queryable p50 (ms)") ?? 0) > 0, "\(r.stdout)")
        #expect((number("latency p99 (ms)") ?? 0) >= (number("latency produce -> queryable p50 (ms)") ?? .infinity), "\(r.stdout)")
        #expect((number("latency: load achieved (events/s)") ?? 0) > 2500, "\(r.stdout)")
        // The floor: the same probes read by a plain consumer, p50 then p99.
        let floor = (rows["latency floor, no Tally: p50 / p99 (ms)"] ?? "").split(separator: "/").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        #expect(floor.count == 2 && (floor[0] ?? 0) > 0 && (floor[1] ?? 0) >= (floor[0] ?? .infinity), "\(r.stdout)")
        #expect(rows["live hopping results vs offline"] == "exact", "\(r.stdout)")
        // 30,000 keys under 256 KB: most of them spilled, every result checked.
        #expect(rows["spill 30,000 keys, --memory-budget 256KB: results"] == "exact", "\(r.stdout)")
        #expect((number("spill 30,000 keys, --memory-budget 256KB: peak RSS (MB)") ?? 0) > 0, "\(r.stdout)")
        let spilled = r.stdout.split(separator: "\n").first { $0.contains("accumulators spilled") }
            .flatMap { $0.split(separator: ";").last?.split(separator: " ").first }.flatMap { Int($0.replacingOccurrences(of: ",", with: "")) }
        #expect((spilled ?? 0) > 10_000, "\(r.stdout)")
        // The offline run's closed windows, against which live results were checked, are real.
        let offline = try String(contentsOf: dir.appendingPathComponent("offline-tumbling.jsonl"), encoding: .utf8)
        #expect(offline.split(separator: "\n").count > 10_000)
        for q in ["tumbling", "hopping"] {
            let builtIn = try JSONValue.parse(Array(Data(contentsOf: dir.appendingPathComponent("\(q).json"))))
            let file = try JSONValue.parse(Array(Data(contentsOf: TallyBinary.packageRoot.appendingPathComponent("bench/queries/\(q).json"))))
            #expect(builtIn == file, "tally bench's \(q) query differs from bench/queries/\(q).json")
        }
    }
}
