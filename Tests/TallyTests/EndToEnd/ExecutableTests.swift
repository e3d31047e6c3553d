import Foundation
import Kafka
import Tally
import Testing

/// The `tally` executable itself.
@Suite struct ExecutableTests {
    /// Full Foundation brings ICU's data (34 MB) into a static build; the engine needs only
    /// FoundationEssentials (pulled in by Hummingbird), so a dependency on it is a regression.
    @Test func doesNotLinkFullFoundation() async throws {
        try await onOwnThread { try Self().doesNotLinkFullFoundationBody() }
    }

    func doesNotLinkFullFoundationBody() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ldd")
        p.arguments = [TallyBinary.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("librdkafka"), "ldd output: \(text)")
        #expect(!text.contains("libFoundation.so"), "links full Foundation: \(text)")
        #expect(!text.contains("_FoundationICU"), "links ICU: \(text)")
    }

    /// `tally --version` names the librdkafka the process loaded, not the one it was built
    /// against: the one `LD_LIBRARY_PATH` picks when set (the real-broker runs use 2.16).
    @Test func versionNamesTheLoadedLibrdkafka() throws {
        let r = try TallyBinary.run(["--version"])
        #expect(r.status == 0)
        let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line == "\(TallyInfo.version) (librdkafka \(Librdkafka.version))", "\(line)")
        #expect(Librdkafka.version.split(separator: ".").count >= 3, "\(Librdkafka.version)")
    }

    /// Without `--bootstrap`, `tally run` starts a broker of its own: a flag that is wrong must
    /// be reported before that, with no broker address printed and nothing started.
    @Test(arguments: [
        (["--memory-budget", "1KB"], "--memory-budget 1KB"),
        (["--idle-timeout", "soon"], "--idle-timeout soon"),
        (["--kafka-property", "=x"], "--kafka-property =x"),
    ])
    func aWrongFlagIsReportedBeforeTheEmbeddedBrokerStarts(flag: [String], message: String) async throws {
        try await onOwnThread { try Self().aWrongFlagIsReportedBeforeTheEmbeddedBrokerStartsBody(flag, message) }
    }

    func aWrongFlagIsReportedBeforeTheEmbeddedBrokerStartsBody(_ flag: [String], _ message: String) throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("tally-flags-\(UUID())")
        defer { try? FileManager.default.removeItem(at: state) }
        let definition = TallyBinary.packageRoot.appendingPathComponent("queries/revenue_per_customer.json").path
        let r = try TallyBinary.run(["run", "--queries", definition, "--state", state.path, "--http", "127.0.0.1:0"] + flag)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("embedded broker"), "stdout: \(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: state.path), "state folder created")
    }
}
