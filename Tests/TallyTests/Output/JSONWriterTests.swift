import Testing
@testable import Tally

func written(_ v: Double) -> String {
    var out: [UInt8] = []
    JSONWriter.appendDouble(v, to: &out)
    return String(decoding: out, as: UTF8.self)
}

@Test func doublesReadBackExactlyAndMatchSwiftsShortestFormWithoutExponent() {
    var rng = SplitMix(seed: 9)
    for i in 0..<250_000 {
        let v: Double
        switch i % 5 {
        case 0: v = Double(Int64.random(in: -10_000_000...10_000_000, using: &rng)) / 100
        case 1: v = Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / 1000
        case 3: v = Double(Int64.random(in: -4_000_000_000_000_000...4_000_000_000_000_000, using: &rng)) / 1_000_000
        case 2: v = Double.random(in: -1e6...1e6, using: &rng)
        default: v = Double(bitPattern: rng.next())
        }
        guard v.isFinite else { continue }
        let text = written(v)
        #expect(Double(text) == v, "\(v) written as \(text)")
        if !v.description.contains("e") {
            #expect(text == v.description, "\(v)")
        }
    }
}

@Test func specialValuesAreWrittenAsJSON() {
    #expect(written(99) == "99.0")
    #expect(written(-0.5) == "-0.5")
    #expect(written(123.45) == "123.45")
    #expect(written(0) == "0.0")
    #expect(written(.nan) == "null")
    #expect(written(.infinity) == "null")
    #expect(written(1e300) == "1e+300")
    #expect(written(0.000001) == "0.000001")
    #expect(written(-0.000123) == "-0.000123")
    #expect(written(2_147_483_647.5) == "2147483647.5")
    #expect(written(1_763_999_940_000) == "1763999940000.0")
    #expect(written(100.05) == "100.05")
    #expect(written(0.30000000000000004) == "0.30000000000000004")
}

@Test func stringsAreEscaped() {
    var out: [UInt8] = []
    JSONWriter.appendString("a\"b\\c\n\u{1}é", to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "\"a\\\"b\\\\c\\n\\u0001é\"")
}
