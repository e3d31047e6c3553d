import ArgumentParser
import Kafka
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tally bench`: the project's performance figures, reproduced on the user's machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Tally on this machine: offline and live throughput, memory, restart and start-up.",
        discussion: """
            Generates order events (10,000 customers, ~2 ms apart, ±500 ms of disorder, 60% \
            OrderCreated) and runs the tumbling 60 s and hopping 5 m / 1 m queries of the README's \
            benchmark: offline (`tally test` to /dev/null, one thread), live (`tally run` as a child \
            process against a broker: events/s from the first event counted to the last, peak RSS, \
            and results compared with the offline run's), restart (time to /health 200 with one \
            window per event in state), latency (an event produced every 20 ms under a \
            new customer while --rate events/s of load flow, polled over HTTP until counted; then \
            the same load and probes without Tally, read by a plain consumer: the floor), \
            spill (`tally test` over --spill-keys orders of distinct customers in one open hour \
            with --memory-budget --spill-budget: time, peak RSS, every result checked; one run, \
            and about 2 GB of files in the working folder meanwhile for 10M keys), and \
            start-up (`tally --help`). Without --bootstrap the \
            broker is librdkafka's mock cluster inside this process; with --bootstrap the topics \
            must exist: the source topic (--topic), orders_agg, orders_agg_hop, their .dlq topics; \
            for the restart step bench_restart, restart_agg and restart_agg.dlq; for the latency \
            step bench_latency_1 … bench_latency_R (one per run), latency_agg and latency_agg.dlq. \
            Prints a table on stdout; progress on stderr.
            """)

    @Option(help: "Number of events.")
    var events = 1_000_000

    @Option(help: "Runs of each measurement (the table shows medians).")
    var runs = 3

    @Option(help: "Broker address HOST:PORT; without it a mock broker runs inside this process.")
    var bootstrap: String?

    @Option(help: "Source topic for the live runs.")
    var topic = "orders"

    @Option(help: "Partitions of each topic the embedded broker creates (it keeps about 5 MiB per partition: 1M events need 8).")
    var partitions = 8

    /// Every step, in the order they run.
    static let allSteps = ["offline", "live", "restart", "latency", "spill", "startup"]

    @Option(help: "Steps to run, comma-separated: \(allSteps.joined(separator: ", ")).")
    var steps = allSteps.joined(separator: ",")

    @Option(help: "Distinct keys (one order each) of the spill step.")
    var spillKeys = 10_000_000

    @Option(help: "--memory-budget of the spill step.")
    var spillBudget = "64MB"

    @Option(help: "Load in events/s beside the latency probes.")
    var rate = 100_000

    @Option(help: "Seconds of probing per latency run.")
    var latencySeconds = 10.0

    @Option(help: "Working folder (kept); default: a new folder under /tmp, removed at the end.")
    var work: String?

    @Option(
        name: .customLong("run-option"), parsing: .unconditionalSingleValue,
        help: "One more argument for every `tally run` (repeatable), e.g. --run-option=--checkpoint-interval=5s or --run-option=--kafka-property=consumer.fetch.wait.max.ms=0.")
    var runOptions: [String] = []

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard runs > 0 else { throw ValidationError("--runs must be positive") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard rate > 0, latencySeconds > 0 else { throw ValidationError("--rate and --latency-seconds must be positive") }
        for s in stepList where !Self.allSteps.contains(s) {
            throw ValidationError("unknown step \"\(s)\" in --steps (known: \(Self.allSteps.joined(separator: ", ")))")
        }
        guard spillKeys > 0 else { throw ValidationError("--spill-keys must be positive") }
        guard ByteSize.memoryBudget(spillBudget) != nil else {
            throw ValidationError("--spill-budget \(spillBudget): \(ByteSize.memoryBudgetExpected)")
        }
    }

    var stepList: [String] { steps.split(separator: ",").map { String($0.trimmingPrefix(" ")) } }

    func run() throws {
        let folder = try work ?? TemporaryFolder.make("tally-bench")
        if work != nil { mkdir(folder, 0o755) }
        defer { if work == nil { TemporaryFolder.remove(folder) } }
        let bench = BenchRun(
            folder: folder, events: events, runs: runs, partitions: partitions, sourceTopic: topic,
            runArguments: runOptions)
        let steps = Set(stepList)
        if steps.contains("offline") || steps.contains("live") {
            bench.status("generating \(bench.format(events)) order events")
            try BenchWorkload.writeOrders(count: events, to: bench.ordersFile)
            try bench.offline()
        }
        if !steps.isDisjoint(with: ["live", "restart", "latency"]) {
            let broker = try BenchBroker(bootstrap: bootstrap, partitions: partitions)
            if steps.contains("live") { try bench.live(broker) }
            if steps.contains("restart") { try bench.restart(broker) }
            if steps.contains("latency") { try bench.latency(broker, rate: rate, seconds: latencySeconds) }
        }
        if steps.contains("spill") { try bench.spill(keys: spillKeys, budget: spillBudget) }
        if steps.contains("startup") { try bench.startup() }
        bench.status(nil)
        print(bench.table())
    }
}
