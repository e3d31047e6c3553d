import Foundation
import Testing

/// Topics Tally writes must exist before it starts: a broker that creates topics on first use
/// would give them its defaults. On a real broker (Tansu, which creates no topic on a metadata
/// request) a missing output or dead-letter topic is refused at start, naming it and the way out;
/// the development broker creates any topic asked about, so there is nothing to refuse.
@Suite(.serialized, .enabled(if: TestBroker.kind != .mock)) struct MissingTopicTests {
    @Test(arguments: [
        (["orders:1", "live_out.dlq:1"], "the output topic live_out of live does not exist"),
        (["orders:1", "live_out:2"], "the dead-letter topic live_out.dlq of live does not exist"),
    ])
    func aMissingTopicTallyWritesIsRefusedAtStart(topics: [String], message: String) async throws {
        try await onOwnThread { try Self().body(topics, message) }
    }

    func body(_ topics: [String], _ message: String) throws {
        let dir = try TemporaryFolder("tally-missing-topic")
        let broker = try TestBroker(topics: topics, in: dir.url)
        let definition = dir.url.appendingPathComponent("live.json").path
        try LiveEngineTests.definition.write(toFile: definition, atomically: true, encoding: .utf8)
        let run = try ChildProcess(
            ["run", "--queries", definition, "--bootstrap", broker.bootstrap, "--state", dir.url.appendingPathComponent("state").path,
             "--http", "127.0.0.1:\(freePort())"],
            in: dir.url, name: "run")
        #expect(run.wait(timeout: 60) == 1, "\(run.stderr.suffix(2000))")
        #expect(run.stderr.contains(message) && run.stderr.contains("kafka-topics.sh --create"), "\(run.stderr.suffix(2000))")
        broker.signal(SIGTERM)
        broker.wait(timeout: 10)
    }
}
