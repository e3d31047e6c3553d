import ArgumentParser
import Kafka
import Logging
import ServiceLifecycle
import Tally
import TallyHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tally run`: the live engine.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run definitions over Kafka: windows in RocksDB, results to output topics, queries over HTTP.")

    @Option(name: .customLong("queries"), parsing: .upToNextOption, help: "Definition files or folders of them.")
    var queries: [String]

    @Option(help: "Kafka bootstrap address HOST:PORT; without it an embedded broker is started (a demo).")
    var bootstrap: String?

    @Option(help: "Consumer group id.")
    var group = "tally"

    @Option(help: "State folder (RocksDB).")
    var state = ".tally"

    @Option(help: "HTTP address HOST:PORT.")
    var http = "127.0.0.1:8080"

    @Option(help: "Time between checkpoints, e.g. 1s.")
    var checkpointInterval = "1s"

    @Option(help: "A partition silent this long stops holding the watermark back, e.g. 10s.")
    var idleTimeout = "10s"

    @Option(help: "How long closed windows stay queryable (by event time), e.g. 1h.")
    var retention = "1h"

    @Option(help: "Window state kept in memory, e.g. 256MB; past it, accumulators spill to the state folder (default: no limit).")
    var memoryBudget: String?

    @Option(help: "Discard the stored state of this definition at start (repeatable).")
    var resetState: [String] = []

    @Option(help: "Load this JSON Lines file into the source topic(s) before running, spread over their partitions.")
    var replay: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Partitions of each topic the embedded broker creates.")
    var partitions = 4

    @Flag(help: ArgumentHelp(
        "Share the source partitions with the other instances of --group (Kafka's group protocol); each owned partition's state also goes to the topic <group>-<definition>-changelog, which must exist with as many partitions as the source. A source must be keyed by the group key, or its definition must say \"repartition\": true (its events then go through <group>-<definition>-repartition, whose partition count the changelog has instead)."))
    var scaleOut = false

    @Option(help: ArgumentHelp(
        "A librdkafka property KEY=VALUE for both Kafka clients (repeatable); prefix the key with producer. or consumer. for one of them.",
        valueName: "key=value"))
    var kafkaProperty: [String] = []

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tally")
        let metrics = TallyMetrics.bootstrap()  // before the engine creates its counters
        let parts = http.split(separator: ":")
        guard parts.count == 2, let httpPort = Int(parts[1]), (0...65535).contains(httpPort) else {
            throw ValidationError("--http \(http): expected HOST:PORT")
        }
        let definitions: [Definition]
        switch DefinitionLoader.load(queries) {
        case .success(let ds): definitions = ds
        case .failure(let errors):
            for p in errors.problems { printError(p.description) }
            throw ExitCode(2)
        }
        // Every flag is checked before an embedded broker starts (and prints its address).
        var config = EngineConfig(bootstrap: self.bootstrap ?? "")
        config.group = group
        config.statePath = state
        config.checkpointInterval = try duration(checkpointInterval, "--checkpoint-interval")
        config.idleTimeout = try duration(idleTimeout, "--idle-timeout")
        config.retention = try duration(retention, "--retention")
        config.resetState = Set(resetState)
        config.scaleOut = scaleOut
        config.advertisedHTTP = http
        if let memoryBudget {
            guard let bytes = ByteSize.memoryBudget(memoryBudget) else {
                throw ValidationError("--memory-budget \(memoryBudget): \(ByteSize.memoryBudgetExpected)")
            }
            config.memoryBudget = bytes
            AllocatorTuning.apply()
        }
        for p in kafkaProperty {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--kafka-property \(p): expected KEY=VALUE, e.g. producer.linger.ms=20")
            }
            let key = String(p[..<eq]), value = String(p[p.index(after: eq)...])
            if key.hasPrefix("producer.") {
                config.producerConfig[String(key.dropFirst("producer.".count))] = value
            } else if key.hasPrefix("consumer.") {
                config.consumerConfig[String(key.dropFirst("consumer.".count))] = value
            } else {
                config.producerConfig[key] = value
                config.consumerConfig[key] = value
            }
        }
        var broker: MockCluster? = nil
        let bootstrap: String
        if let given = self.bootstrap {
            bootstrap = given
        } else {
            let cluster = try MockCluster()
            var topics = Set<String>()
            for d in definitions { topics.formUnion([d.source, d.output, d.deadLetter]) }
            if scaleOut {
                topics.formUnion(definitions.map { "\(self.group)-\($0.name)-changelog" } + ["\(self.group)-instances"])
                topics.formUnion(definitions.filter(\.repartition).map { "\(self.group)-\($0.name)-repartition" })
            }
            for t in topics.sorted() { try cluster.createTopic(t, partitions: partitions) }
            broker = cluster
            bootstrap = cluster.bootstrapServers
            print("embedded broker: \(bootstrap)")
            fflush(nil)  // scripts read the address while the engine runs
        }
        config.bootstrap = bootstrap
        if let replay {
            let sources = Array(Set(definitions.map(\.source))).sorted()
            let n = try JSONLinesLoader.load(path: replay, topics: sources, keyField: nil, roundRobin: true, bootstrap: bootstrap)
            logger.info("replayed \(n) events from \(replay) into \(sources.joined(separator: ", "))")
        }
        let engine: Engine
        do {
            engine = try Engine(definitions: definitions, config: config, logger: logger)
        } catch {
            printError("tally run: \(error)")
            throw ExitCode(1)
        }
        let server = HTTPServer(
            queries: engine, host: String(parts[0]), port: httpPort, metrics: metrics, logger: logger,
            onListening: { host, port in logger.info("http on \(host):\(port)") })
        // Shutdown goes in reverse order: HTTP stops first, then the engine checkpoints and ends.
        let group = ServiceGroup(
            services: [EngineService(engine: engine), server],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        do {
            try await group.run()
        } catch {
            printError("tally run: \(error)")
            // Exit here, without closing the state: after a failed write (a full disk) RocksDB
            // would try to write again while closing. The last checkpoint is synced already.
            fflush(nil)
            #if canImport(Glibc)
            Glibc.exit(1)
            #else
            Darwin.exit(1)
            #endif
        }
        if let broker {
            // The embedded broker must outlive every Kafka client of the process, or they log
            // that it went away. The engine has checkpointed and closed its state; exiting here
            // ends the clients and the broker together instead of in whatever order they are
            // released. (Swift may release an object right after its last use: without the
            // extended lifetime the broker went just before this exit, and the clients logged.)
            withExtendedLifetime(broker) {
                fflush(nil)
                #if canImport(Glibc)
                Glibc.exit(0)
                #else
                Darwin.exit(0)
                #endif
            }
        }
    }

    func duration(_ text: String, _ flag: String) throws -> Int64 {
        guard let ms = TimeSpan.milliseconds(text) else {
            throw ValidationError("\(flag) \(text): expected a duration like 500ms, 10s, 5m")
        }
        return ms
    }
}
