import Testing
@testable import Tally

/// `ProbeTable` against a dictionary, through inserts, finds and removes in random order: hashes
/// drawn from a few values (long runs that wrap past the table's end, equal hashes for different
/// entries) and growth from the smallest table.
@Suite struct ProbeTableTests {
    @Test(arguments: [3, 40, 1 << 40])
    func agreesWithADictionaryUnderRandomOperations(distinctHashes: Int) {
        var rng = SplitMix(seed: UInt64(distinctHashes))
        var table = ProbeTable(capacity: 16)
        var model: [Int32: UInt64] = [:]  // entry → hash
        var live: [Int32] = []
        // High bits vary too, so that entries differing only there are told apart by `matches`.
        func hash() -> UInt64 {
            let h = UInt64(rng.int(0...(distinctHashes - 1)))
            return h &* 0x9E37_79B9 | (h % 7) << 33
        }
        var next: Int32 = 0
        for step in 0..<20_000 {
            if model.isEmpty || rng.chance(0.55) {
                let h = step % 97 == 0 ? UInt64(15) : hash()  // 15: the last slot of a 16-slot table
                table.insert(next, hash: h)
                model[next] = h
                live.append(next)
                next += 1
            } else {
                let i = rng.below(live.count)
                let e = live[i]
                live.swapAt(i, live.count - 1)
                live.removeLast()
                table.remove(e, hash: model[e]!)
                model[e] = nil
            }
            if step % 50 == 0 || model.count < 40 {
                #expect(table.count == model.count)
                for (e, h) in model {
                    #expect(table.find(h) { $0 == e } == e, "entry \(e) lost at step \(step)")
                }
                #expect(table.find(hash()) { _ in false } == nil)
            }
        }
        #expect(model.count > 1000)
    }
}
