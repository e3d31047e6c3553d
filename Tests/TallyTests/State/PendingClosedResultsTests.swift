import Testing
@testable import Tally

/// The closed results a query sees between their emission and the checkpoint that stores them.
@Suite struct PendingClosedResultsTests {
    static func result(_ key: String, _ start: Int64, _ values: [Double?]) -> WindowResult {
        WindowResult(key: Array(key.utf8), start: start, end: start + 60, isFinal: true, values: values)
    }

    static func key(_ k: Int) -> String { "k" + String(repeating: "x", count: k) + String(k) }

    /// Results of three windows, keys "k0"… of varying lengths, nulls included.
    static func sample() -> [WindowResult] {
        var out: [WindowResult] = []
        for start in [Int64(-60), 0, 60] {
            for k in 0..<5 {
                out.append(result(key(k), start, [Double(k), k % 2 == 0 ? nil : Double(start), -0.5]))
            }
        }
        return out
    }

    static func expected(_ results: ArraySlice<WindowResult>, key: String) -> [String] {
        results.filter { $0.key == Array(key.utf8) }.map { "\($0.start) \($0.values)" }.sorted()
    }

    static func found(_ pending: PendingClosedResults, _ key: String) -> [String] {
        pending.results(of: Array(key.utf8)).map { "\($0.start) \($0.values)" }.sorted()
    }

    @Test func aKeyFindsItsResultInEveryWindow() {
        let all = Self.sample()
        var pending = PendingClosedResults(width: 3)
        for (i, r) in all.enumerated() { pending.append(r, shard: Int32(i % 2)) }
        #expect(pending.count == 15)
        for k in 0..<5 { #expect(Self.found(pending, Self.key(k)) == Self.expected(all[...], key: Self.key(k))) }
        #expect(pending.results(of: Array("k1".utf8)).isEmpty)  // a prefix of no key held
    }

    @Test(arguments: [0, 1, 4, 5, 6, 12, 15])
    func resultsHandedToACheckpointStayVisibleUntilItIsWritten(n: Int) {
        let all = Self.sample()
        var pending = PendingClosedResults(width: 3)
        for r in all[..<n] { pending.append(r) }
        let taken = pending.beginCheckpoint()
        #expect(taken.values.reduce(0) { $0 + $1.count } == n)
        // Results emitted while the checkpoint is written belong to the next one.
        for r in all[n...] { pending.append(r) }
        #expect(pending.count == 15)
        for k in 0..<5 { #expect(Self.found(pending, Self.key(k)) == Self.expected(all[...], key: Self.key(k))) }
        pending.written()
        #expect(pending.count == 15 - n)
        for k in 0..<5 { #expect(Self.found(pending, Self.key(k)) == Self.expected(all[n...], key: Self.key(k))) }
        #expect(pending.beginCheckpoint().values.reduce(0) { $0 + $1.count } == 15 - n)
    }
}
