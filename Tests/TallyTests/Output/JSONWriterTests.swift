import Testing
@testable import Tally

func written(_ v: Double) -> String {
    var out: [UInt8] = []
    JSONWriter.appendDouble(v, to: &out)
    return String(decoding: out, as: UTF8.self)
}

@Test func doublesReadBackExactlyAndMatchSwiftsShortestFormWithoutExponent() {
    var rng = SplitMix(seed: 9)
    for i in 0..<200_000 {
        let v: Double
        switch i % 4 {
        case 0: v = Double(Int64.random(in: -10_000_000...10_000_000, using: &rng)) / 100
        case 1: v = Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &rng)) / 1000
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
}

@Test func stringsAreEscaped() {
    var out: [UInt8] = []
    JSONWriter.appendString("a\"b\\c\n\u{1}é", to: &out)
    #expect(String(decoding: out, as: UTF8.self) == "\"a\\\"b\\\\c\\n\\u0001é\"")
}
