import Foundation

/// Runs `body` with the path of a fresh empty folder, removed afterwards whatever happens.
func withTemporaryFolder<Result>(_ body: (String) throws -> Result) throws -> Result {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tally-rocksdb-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// The bytes of a UTF-8 string, to keep tests short.
func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }
