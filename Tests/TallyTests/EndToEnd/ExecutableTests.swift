import Foundation
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
}
