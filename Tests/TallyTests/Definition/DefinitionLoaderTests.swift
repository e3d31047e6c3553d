import Foundation
import Testing
@testable import Tally

@Test func duplicateNamesAcrossFilesAreRefused() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-loader-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let body = #"{"name":"same","source":"s","groupBy":[],"window":{"type":"tumbling","size":"1m"},"aggregates":[{"name":"n","fn":"count"}]}"#
    try body.write(to: dir.appendingPathComponent("a.json"), atomically: true, encoding: .utf8)
    try body.write(to: dir.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)
    try "ignored".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    guard case .failure(let e) = DefinitionLoader.load([dir.path]) else {
        Issue.record("expected a duplicate-name problem")
        return
    }
    #expect(e.problems.map(\.description) == [
        "\(dir.path)/b.json: $.name: \"same\" is already defined in \(dir.path)/a.json (expected a name unique among loaded definitions)"
    ])
}

@Test func missingPathIsReported() {
    guard case .failure(let e) = DefinitionLoader.load(["/nonexistent/q.json"]) else {
        Issue.record("expected failure")
        return
    }
    #expect(e.problems.first?.description == "/nonexistent/q.json: $: no such file or folder (expected a definition file or a folder of them)")
}

@Test func shippedExampleQueriesAreValid() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let defs = try DefinitionLoader.load([root.appendingPathComponent("queries").path]).get()
    #expect(defs.count >= 3)
    #expect(defs.contains { $0.window.isSliding })
    #expect(defs.contains { !$0.window.isSliding })
    #expect(defs.contains { !$0.filters.isEmpty && $0.groupBy.count == 2 })
}
