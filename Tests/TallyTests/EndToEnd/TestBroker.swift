import Foundation

/// The broker an end-to-end test runs against, chosen for the whole run by `TALLY_TEST_BROKER`:
/// `mock` (default) is `tally broker`, librdkafka's mock cluster; `tansu` is a real
/// Kafka-protocol broker, Tansu (`scripts/install-tansu.sh` installs it; `TALLY_TANSU` is its
/// binary, and the run needs the librdkafka that talks to it on `LD_LIBRARY_PATH`, which the
/// `tally` processes inherit). Tansu keeps its data in memory, like the mock.
final class TestBroker {
    enum Kind: String { case mock, tansu }

    static var kind: Kind {
        Kind(rawValue: ProcessInfo.processInfo.environment["TALLY_TEST_BROKER"] ?? "mock") ?? .mock
    }

    let process: ChildProcess
    /// `127.0.0.1:PORT`.
    let bootstrap: String

    /// A broker with `topics` (`name:partitions`) created, on `port` when given.
    init(topics: [String], port: Int? = nil, in dir: URL, name: String = "broker") throws {
        switch Self.kind {
        case .mock:
            let portArgs = port.map { ["--port", "\($0)"] } ?? []
            process = try ChildProcess(["broker"] + portArgs + topics.flatMap { ["--topic", $0] }, in: dir, name: name)
            bootstrap = try process.firstLine()
        case .tansu:
            guard let tansu = ProcessInfo.processInfo.environment["TALLY_TANSU"] else {
                throw TestFailure("TALLY_TEST_BROKER=tansu needs TALLY_TANSU, the tansu binary (scripts/install-tansu.sh)")
            }
            let p = port ?? freePort()
            let url = "tcp://127.0.0.1:\(p)"
            process = try ChildProcess(
                ["broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                in: dir, name: name, environment: ["RUST_LOG": "warn"], executable: tansu)
            bootstrap = "127.0.0.1:\(p)"
            try Self.awaitListening(p, process)
            for t in topics {
                let parts = t.split(separator: ":")
                let create = Process()
                create.executableURL = URL(fileURLWithPath: tansu)
                create.arguments = ["topic", "create", "--broker", url, "--partitions", String(parts[1]), String(parts[0])]
                create.standardOutput = FileHandle.nullDevice
                create.standardError = FileHandle.nullDevice
                try create.run()
                create.waitUntilExit()
                guard create.terminationStatus == 0 else { throw TestFailure("tansu topic create \(t) failed") }
            }
        }
    }

    /// Waits (10 s at most) until something accepts connections on `port`.
    static func awaitListening(_ port: Int, _ process: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && process.process.isRunning {
            if HTTPBindingTests.accepts("127.0.0.1", port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw TestFailure("the broker did not listen on \(port): \(process.stderr.suffix(2000))")
    }

    func signal(_ sig: Int32) { process.signal(sig) }

    @discardableResult
    func wait(timeout: Double = 30) -> Int32? { process.wait(timeout: timeout) }
}
