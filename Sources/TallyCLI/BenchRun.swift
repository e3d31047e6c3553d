import Kafka
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The measurements of one `tally bench`, step by step, and the table they make.
final class BenchRun {
    let folder: String
    let events: Int
    let runs: Int
    let partitions: Int
    let sourceTopic: String
    /// Extra arguments for every `tally run`.
    let runArguments: [String]
    var ordersFile: String { folder + "/orders.jsonl" }
    /// Table rows: what, median, and every run.
    var rows: [(what: String, median: String, runs: String)] = []
    private let interactive = isatty(2) == 1

    init(folder: String, events: Int, runs: Int, partitions: Int, sourceTopic: String, runArguments: [String]) {
        self.folder = folder
        self.events = events
        self.runs = runs
        self.partitions = partitions
        self.sourceTopic = sourceTopic
        self.runArguments = runArguments
    }

    // MARK: steps

    /// `tally test`'s path over the events, output to /dev/null; one run's output is kept for
    /// the live results' check.
    func offline() throws {
        for q in BenchWorkload.queries(source: sourceTopic) {
            let definition = try load(q.json, label: q.label)
            var rates: [Double] = []
            for run in 1...runs {
                status("offline \(q.label) run \(run)/\(runs)")
                let outPath = run == 1 ? resultsFile(q.label) : "/dev/null"
                let out = open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                let input = open(ordersFile, O_RDONLY)
                guard out >= 0, input >= 0 else { throw CLIError("cannot open \(outPath) or \(ordersFile)") }
                defer { close(out); close(input) }
                let started = ContinuousClock.now
                let stats = try OfflineRunner(definition, output: OutputWriter(fd: out)).run(LineReader(fd: input))
                let seconds = Self.seconds(since: started)
                guard stats.read == events else { throw CLIError("offline \(q.label): read \(stats.read) of \(events) events") }
                rates.append(Double(events) / seconds)
            }
            addRow("offline \(q.label) (events/s, one thread)", rates, format: { format(Int($0)) })
        }
    }

    /// `tally run` as a child process over the events in the broker, per query and run: events/s
    /// from the first event counted to the last, peak RSS, and its results against offline's.
    func live(_ broker: BenchBroker) throws {
        status("producing \(format(events)) events to \(sourceTopic)")
        try broker.load(ordersFile, topic: sourceTopic, outputs: BenchWorkload.queries(source: sourceTopic).map(\.name))
        // The queries take turns run by run, so that a slower or faster phase of the machine
        // weighs on both and their ratio compares runs made side by side.
        let queries = BenchWorkload.queries(source: sourceTopic)
        var expected: [BenchResults] = []
        for q in queries {
            try writeFile(folder + "/\(q.label).json", q.json)
            expected.append(try BenchResults(file: resultsFile(q.label)))
        }
        var rates = Array(repeating: [Double](), count: queries.count)
        var rss = rates
        var checks = Array(repeating: [String](), count: queries.count)
        for run in 1...runs {
            for (i, q) in queries.enumerated() {
                status("live \(q.label) run \(run)/\(runs)")
                let before = try broker.ends(of: q.name)
                let ran = try runEngine(folder + "/\(q.label).json", name: q.name, broker: broker, tag: "\(q.label)-\(run)")
                rates[i].append(ran.rate)
                rss[i].append(Double(ran.peakRSS) / 1_048_576)
                let got = try BenchResults(values: broker.read(q.name, from: before))
                checks[i].append(got.difference(from: expected[i], watermark: ran.watermark, grace: 1000) ?? "exact")
            }
        }
        for (i, q) in queries.enumerated() {
            addRow("live \(q.label) (events/s)", rates[i], format: { format(Int($0)) })
            addRow("live \(q.label) peak RSS (MB)", rss[i], format: { "\(Int($0.rounded()))" })
            let failed = checks[i].filter { $0 != "exact" }
            rows.append(("live \(q.label) results vs offline", failed.isEmpty ? "exact" : "DIFFER", failed.first ?? "all \(runs) runs"))
        }
        if let t = queries.firstIndex(where: { $0.label == "tumbling" }), let h = queries.firstIndex(where: { $0.label == "hopping" }) {
            // The ratio of the medians, then each run's hopping rate over the tumbling run before it.
            let pairs = zip(rates[h], rates[t]).map { String(format2: $0 / $1) }.joined(separator: "  ")
            rows.append(("live hopping / tumbling", String(format2: median(rates[h]) / median(rates[t])), "by run: " + pairs))
        }
    }

    /// Percentile `p` of ascending `sorted` latencies, in ms with two decimals.
    static func percentile(_ sorted: [Double], _ p: Double) -> String {
        sorted.isEmpty ? "-" : String(format2: sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))])
    }

    /// Time from launching `tally run` to /health 200, with one open window per event in state.
    func restart(_ broker: BenchBroker) throws {
        let file = folder + "/distinct.jsonl"
        status("generating \(format(events)) events of distinct customers")
        try BenchWorkload.writeDistinctKeys(count: events, to: file)
        status("producing them to bench_restart")
        try broker.load(file, topic: "bench_restart", outputs: ["restart_agg"])
        let definitionFile = folder + "/restart.json"
        try writeFile(definitionFile, BenchWorkload.definition(
            name: "restart_agg", source: "bench_restart", window: BenchWorkload.tumblingWindow))
        status("filling the state: \(format(events)) windows")
        let state = folder + "/state-restart"
        _ = try runEngine(definitionFile, name: "restart_agg", broker: broker, tag: "restart", state: state)
        var times: [Double] = []
        for run in 1...runs {
            status("restart run \(run)/\(runs)")
            let port = try freePort()
            let started = ContinuousClock.now
            let engine = try startEngine(
                definitionFile, broker: broker, group: "tally-bench-restart", state: state, port: port, log: "engine-restart.log")
            defer { engine.terminate(); engine.wait() }
            try waitUntil(seconds: 120, "restarted engine to answer /health") {
                LocalHTTP.get(port: port, path: "/health")?.status == 200
            }
            times.append(Self.seconds(since: started) * 1000)
        }
        addRow("restart to /health 200 with \(format(events)) windows (ms)", times, format: { "\(Int($0.rounded()))" })
    }

    /// Ingest-to-queryable latency under `rate` events/s of load (see `BenchLatency`): p50, p90
    /// and p99 of the probes over all runs.
    func latency(_ broker: BenchBroker, rate: Int, seconds: Double) throws {
        var all: [Double] = [], missed = 0, loads: [Double] = [], queries: [Double] = []
        for run in 1...runs {
            try broker.prepare(BenchLatency.topic(run), outputs: run == 1 ? [BenchLatency.query] : [])
            status("latency run \(run)/\(runs): probes every 20 ms under \(format(rate)) events/s for \(Int(seconds)) s")
            let r = try BenchLatency(bench: self, broker: broker, rate: rate, seconds: seconds, runNumber: run).run()
            all += r.latencies
            missed += r.missed
            loads.append(Double(r.load))
            queries += r.queries
        }
        let sorted = all.sorted()
        let note = "\(sorted.count) probes\(missed > 0 ? ", \(missed) not seen within 5 s" : "")"
        rows.append(("latency produce -> queryable p50 (ms)", Self.percentile(sorted, 0.50), note))
        rows.append(("latency p90 (ms)", Self.percentile(sorted, 0.90), ""))
        rows.append(("latency p99 (ms)", Self.percentile(sorted, 0.99), "max \(sorted.last.map { String(format2: $0) } ?? "-")"))
        addRow("latency: load achieved (events/s)", loads, format: { format(Int($0)) })
        let q = queries.sorted()
        rows.append(("latency: one key query p50 / p99 (ms)", "\(Self.percentile(q, 0.5)) / \(Self.percentile(q, 0.99))",
                     "the probe's GETs, request to answer, \(q.count) requests"))
        // The floor: the same load and probes read by a plain consumer with the engine's fetch
        // wait (`--kafka-property [consumer.]fetch.wait.max.ms=N` among the run options, if any).
        let setting = "fetch.wait.max.ms="
        let wait = runArguments.compactMap { a in a.firstRange(of: setting).map { String(a[$0.upperBound...]) } }.last
            ?? Consumer.defaultConfig["fetch.wait.max.ms"]!
        status("latency floor: the same load and probes, read by a plain librdkafka consumer (fetch.wait.max.ms=\(wait))")
        let floor = try BenchLatency(bench: self, broker: broker, rate: rate, seconds: seconds, runNumber: 1).floor(fetchWaitMs: wait)
        let f = floor.latencies.sorted()
        rows.append(("latency floor, no Tally: p50 / p99 (ms)", "\(Self.percentile(f, 0.5)) / \(Self.percentile(f, 0.99))",
                     "produce -> polled by a plain consumer, fetch.wait.max.ms=\(wait), \(f.count) probes"))
    }

    /// `tally --help`, launched as a user would: median wall time over 20 launches.
    func startup() throws {
        status("start-up")
        var times: [Double] = []
        for _ in 0..<20 {
            let started = ContinuousClock.now
            let p = try Subprocess(["--help"], output: "/dev/null")
            guard p.wait().status == 0 else { throw CLIError("tally --help failed") }
            times.append(Self.seconds(since: started) * 1000)
        }
        addRow("start-up to --help (ms, 20 launches)", times, format: { String(format1: $0) }, showRuns: false)
        var st = stat()
        if stat(Subprocess.executable, &st) == 0 {
            rows.append(("executable size (MB)", String(format1: Double(st.st_size) / 1_048_576), Subprocess.executable))
        }
    }

    // MARK: the engine as a child process

    /// Starts `tally run` on `definitionFile` (with `runArguments`), its output in `log` in the
    /// working folder.
    func startEngine(
        _ definitionFile: String, broker: BenchBroker, group: String, state: String, port: Int, log: String
    ) throws -> Subprocess {
        try Subprocess(
            ["run", "--queries", definitionFile, "--bootstrap", broker.bootstrap, "--group", group, "--state", state,
             "--http", "127.0.0.1:\(port)", "--log-level", "warning"] + runArguments,
            output: folder + "/" + log)
    }

    /// Runs `tally run` on `definitionFile` until every event is accounted for; returns events/s
    /// (first event seen to last), the process's peak RSS and the watermark then.
    func runEngine(
        _ definitionFile: String, name: String, broker: BenchBroker, tag: String, state: String? = nil
    ) throws -> (rate: Double, peakRSS: Int, watermark: Double) {
        let port = try freePort()
        let engine = try startEngine(
            definitionFile, broker: broker, group: "tally-bench-\(tag)-\(getpid())", state: state ?? folder + "/state-\(tag)",
            port: port, log: "engine-\(tag).log")
        var first: ContinuousClock.Instant?
        var last = ContinuousClock.now
        var watermark = -Double.infinity
        do {
            try waitUntil(seconds: 600, every: 20, "all \(events) events to be counted (log: \(folder)/engine-\(tag).log)") {
                guard let progress = self.progress(port: port, name: name) else { return false }
                let now = ContinuousClock.now
                if progress.seen > 0 && first == nil { first = now - .milliseconds(20) }
                last = now
                watermark = progress.watermark
                return progress.seen >= events
            }
        } catch {
            engine.terminate()
            engine.wait()
            throw error
        }
        engine.terminate()
        let ended = engine.wait(samplingPeak: true)
        guard ended.status == 0 else { throw CLIError("tally run exited with \(ended.status) (log: \(folder)/engine-\(tag).log)") }
        return (Double(events) / max(Self.seconds(last - (first ?? last)), 0.001), ended.peakRSS, watermark)
    }

    /// Events read so far by the definition `name` (counted, filtered, late or rejected), and
    /// its watermark.
    func progress(port: Int, name: String) -> (seen: Int, watermark: Double)? {
        guard let r = LocalHTTP.get(port: port, path: "/queries/\(name)"), r.status == 200,
            let doc = try? JSONValue.parse(r.body)
        else { return nil }
        var seen = 0
        for field in ["events", "filtered", "late", "rejected"] {
            guard case .number(let n)? = doc[field] else { return nil }
            seen += Int(n)
        }
        guard case .number(let watermark)? = doc["watermark"] else { return (seen, -.infinity) }
        return (seen, watermark)
    }

    /// Polls `condition` every `every` ms until it holds, or throws after `seconds`.
    func waitUntil(seconds: Double, every: Int = 5, _ what: String, _ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw CLIError("timed out after \(Int(seconds)) s waiting for \(what)") }
            usleep(useconds_t(every * 1000))
        }
    }

    // MARK: helpers

    func resultsFile(_ label: String) -> String { folder + "/offline-\(label).jsonl" }

    func load(_ json: String, label: String) throws -> Definition {
        let path = folder + "/\(label).json"
        try writeFile(path, json)
        switch DefinitionLoader.load([path]) {
        case .success(let ds): return ds[0]
        case .failure(let errors): throw CLIError(errors.problems.map(\.description).joined(separator: "\n"))
        }
    }

    func writeFile(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let w = OutputWriter(fd: fd)
        w.buffer += text.utf8
        try w.flush()
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw CLIError("cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        seconds(ContinuousClock.now - start)
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }

    func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    func addRow(_ what: String, _ values: [Double], format: (Double) -> String, showRuns: Bool = true) {
        rows.append((what, format(median(values)), showRuns ? values.map(format).joined(separator: "  ") : ""))
    }

    /// `n` with thousands separators.
    func format(_ n: Int) -> String {
        var digits = Array(String(n.magnitude))
        var i = digits.count - 3
        while i > 0 { digits.insert(",", at: i); i -= 3 }
        return (n < 0 ? "-" : "") + String(digits)
    }

    /// Redraws the progress line on stderr (a terminal), or prints each step (otherwise); nil clears it.
    func status(_ text: String?) {
        let line: String
        if interactive {
            line = "\r\u{1B}[K" + (text.map { "tally bench: \($0)…" } ?? "")
        } else {
            guard let text else { return }
            line = "tally bench: \(text)\n"
        }
        var bytes = Array(line.utf8)
        _ = write(2, &bytes, bytes.count)
    }

    /// The results as an aligned text table.
    func table() -> String {
        let header = ("measure", "median", "runs")
        let all = [header] + rows.map { ($0.what, $0.median, $0.runs) }
        let w0 = all.map(\.0.count).max()!, w1 = all.map(\.1.count).max()!
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: w - s.count) }
        var out = "tally bench: \(format(events)) events, \(runs) run\(runs == 1 ? "" : "s") each, \(partitions) partitions\n"
        for (i, r) in all.enumerated() {
            out += pad(r.0, w0) + "  " + String(repeating: " ", count: w1 - r.1.count) + r.1 + "  " + r.2 + "\n"
            if i == 0 { out += String(repeating: "-", count: w0 + w1 + 8) + "\n" }
        }
        return out
    }
}

extension String {
    /// `value` with one decimal.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// `value` with two decimals.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let h = abs(hundredths % 100)
        self = "\(hundredths / 100).\(h < 10 ? "0" : "")\(h)"
    }
}
