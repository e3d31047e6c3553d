import Foundation

/// Runs the built `tally` executable (TALLY_BIN, else .build/debug/tally of this package).
enum TallyBinary {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var path: String {
        if let p = ProcessInfo.processInfo.environment["TALLY_BIN"] { return p }
        return packageRoot.appendingPathComponent(".build/debug/tally").path
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `tally produce` of `lines` (written to `dir/name.jsonl`) into `topic`; throws when it fails.
    static func produce<S: Sequence>(
        _ lines: S, bootstrap: String, topic: String = "orders", keyField: String? = nil, in dir: URL, name: String
    ) throws where S.Element == String {
        let file = dir.appendingPathComponent("\(name).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let key = keyField.map { ["--key-field", $0] } ?? []
        let r = try run(["produce", "--bootstrap", bootstrap, "--topic", topic] + key + [file.path])
        guard r.status == 0 else { throw TestFailure("produce failed: \(r.stderr)") }
    }

    /// Runs `tally args…` to completion, capturing both streams.
    static func run(_ args: [String]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-run-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return Output(
            status: p.terminationStatus,
            stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small deterministic random generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    init(state: UInt64) { self.state = state }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
