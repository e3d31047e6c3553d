import Testing
@testable import Tally

/// The closed results a query sees between their emission and the checkpoint that stores them.
@Suite struct PendingClosedResultsTests {
    static func result(_ key: String, _ start: Int64, _ values: [Double?]) -> WindowResult {
        WindowResult(key: Array(key.utf8), start: start, end: start + 60, isFinal: true, values: values)
    }

    /// Results of three windows, keys "k0"… of varying lengths, nulls included.
    static func sample() -> [WindowResult] {
        var out: [WindowResult] = []
        for start in [Int64(-60), 0, 60] {
            for k in 0..<5 {
                let key = "k" + String(repeating: "x", count: k) + String(k)
                out.append(result(key, start, [Double(k), k % 2 == 0 ? nil : Double(start), -0.5]))
            }
        }
        return out
    }

    static func expected(_ results: ArraySlice<WindowResult>, key: String) -> [String] {
        results.filter { $0.key == Array(key.utf8) }.map { "\($0.start) \($0.values)" }
    }

    @Test func aKeyFindsItsResultInEveryWindow() {
        let all = Self.sample()
        var pending = PendingClosedResults(width: 3)
        for r in all { pending.append(r) }
        #expect(pending.count == 15)
        for k in 0..<5 {
            let key = "k" + String(repeating: "x", count: k) + String(k)
            #expect(pending.results(of: Array(key.utf8)).map { "\($0.start) \($0.values)" } == Self.expected(all[...], key: key))
        }
        #expect(pending.results(of: Array("k1".utf8)).isEmpty)  // a prefix of no key held
    }

    @Test(arguments: [0, 1, 4, 5, 6, 12, 15, 20])
    func droppingTheFirstResultsKeepsTheRest(n: Int) {
        let all = Self.sample()
        var pending = PendingClosedResults(width: 3)
        for r in all { pending.append(r) }
        pending.removeFirst(n)
        #expect(pending.count == max(0, 15 - n))
        for k in 0..<5 {
            let key = "k" + String(repeating: "x", count: k) + String(k)
            #expect(pending.results(of: Array(key.utf8)).map { "\($0.start) \($0.values)" } == Self.expected(all.dropFirst(n), key: key))
        }
        // More come after the drop, in a window already held or a new one.
        pending.append(Self.result("new", 60, [1, 2, 3]))
        pending.append(Self.result("new", 120, [4, nil, 6]))
        #expect(pending.results(of: Array("new".utf8)).map(\.start) == [60, 120])
    }
}
