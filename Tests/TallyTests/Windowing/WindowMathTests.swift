import Testing
@testable import Tally

/// Every multiple of `slide` whose window `[s, s + size)` contains `t`, by a plain loop over a
/// generous range of candidates (no floor division involved).
func bruteForceWindowStarts(_ t: Int64, size: Int64, slide: Int64) -> [Int64] {
    var out: [Int64] = []
    var k = (t - size) / slide - 2
    while k <= t / slide + 2 {
        let s = k * slide
        if s <= t && t < s + size { out.append(s) }
        k += 1
    }
    return out
}

@Suite struct WindowMathTests {

    @Test(arguments: [
        (Int64(-1), Int64(-60_000)), (0, 0), (1, 0), (59_999, 0), (60_000, 60_000), (60_001, 60_000),
        (-60_000, -60_000), (-59_999, -60_000), (-60_001, -120_000), (-120_000, -120_000),
        (1_764_000_123_456, 1_764_000_120_000),
    ])
    func tumblingWindowStartsAtTheFloorMultipleEvenBefore1970(t: Int64, start: Int64) {
        #expect(WindowMath.windowStarts(containing: t, .tumbling(60_000)) == [start])
    }

    @Test(arguments: [Int64(0), 60_000, -60_000, -3_600_000, 1_764_000_000_000])
    func windowsAreHalfOpen(start: Int64) {
        let spec = WindowSpec.tumbling(60_000)
        #expect(WindowMath.windowStarts(containing: start, spec) == [start], "t = start belongs to [start, end)")
        #expect(WindowMath.windowStarts(containing: start + 59_999, spec) == [start])
        #expect(WindowMath.windowStarts(containing: start + 60_000, spec) == [start + 60_000], "t = end belongs to the next")
        #expect(WindowMath.windowStarts(containing: start - 1, spec) == [start - 60_000])
    }

    @Test(arguments: [
        (Int64(0), Int64(0)), (1, 0), (-1, -300_000), (299_999, 0), (300_000, 300_000), (-300_000, -300_000),
        (-300_001, -600_000), (1_764_000_000_000, 1_764_000_000_000), (123_456_789, 123_300_000),
    ])
    func slidingWithSizeEqualToSlideHasOneWindowLikeTumbling(t: Int64, start: Int64) {
        let sliding = WindowMath.windowStarts(containing: t, .sliding(300_000, every: 300_000))
        #expect(sliding == [start])
        #expect(sliding == bruteForceWindowStarts(t, size: 300_000, slide: 300_000))
    }

    @Test(arguments: [Int64(0), 1, -1, 59_999, 60_000, -60_000, -3_599_999, 1_764_000_000_001, 3_600_000])
    func slidingWithSizeSixtySlidesGivesSixtyWindowsAllContainingT(t: Int64) {
        let slide: Int64 = 60_000, size = 60 * slide
        let starts = WindowMath.windowStarts(containing: t, .sliding(size, every: slide))
        #expect(starts.count == 60)
        #expect(starts == starts.sorted() && Set(starts).count == 60)
        for s in starts {
            #expect(s <= t && t < s + size, "window [\(s), \(s + size)) does not contain \(t)")
            #expect(s % slide == 0)
        }
        // The earliest is the one that only just contains t, the latest starts at or before t.
        #expect(starts.first! + size > t && starts.first! + size - slide <= t)
        #expect(starts.last! <= t && starts.last! + slide > t)
    }

    @Test func windowStartsMatchABruteForceLoop() {
        var rng: UInt64 = 0x5EED
        func next() -> UInt64 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return rng >> 11
        }
        let slides: [Int64] = [1, 7, 1000, 15_000, 60_000, 3_600_000]
        for _ in 0..<5000 {
            let slide = slides[Int(next() % UInt64(slides.count))]
            let size = slide * Int64(1 + next() % 12)
            let t = Int64(next() % 40_000_000_000) - 20_000_000_000
            let expected = bruteForceWindowStarts(t, size: size, slide: slide)
            #expect(WindowMath.windowStarts(containing: t, .sliding(size, every: slide)) == expected,
                    "t=\(t) size=\(size) slide=\(slide)")
            if size == slide {
                #expect(WindowMath.windowStarts(containing: t, .tumbling(size)) == expected)
            }
        }
    }

    @Test func extremeTimesStillGiveCorrectWindows() {
        let day: Int64 = 86_400_000
        let times: [Int64] = [8_640_000_000_000_000, -8_640_000_000_000_000, -8_639_999_999_999_999, 8_639_999_999_999_999]
        for t in times {
            let spec = WindowSpec.sliding(day, every: 3_600_000)
            let expected = bruteForceWindowStarts(t, size: day, slide: 3_600_000)
            #expect(expected.count == 24)
            #expect(WindowMath.windowStarts(containing: t, spec) == expected)
        }
    }

    @Test(arguments: [(Int64(7), Int64(2), Int64(3)), (-7, 2, -4), (-8, 2, -4), (0, 5, 0), (-1, 5, -1), (-5, 5, -1), (4, 5, 0), (-6, 5, -2)])
    func floorDivRoundsTowardsNegativeInfinity(a: Int64, b: Int64, q: Int64) {
        #expect(WindowMath.floorDiv(a, b) == q)
        #expect(WindowMath.floorMultiple(a, b) == q * b)
    }

    @Test(arguments: [(Int64(300_000), Int64(60_000), Int64(60_000)), (12, 18, 6), (7, 13, 1), (60_000, 60_000, 60_000)])
    func gcdIsTheGreatestCommonDivisor(a: Int64, b: Int64, g: Int64) {
        #expect(WindowMath.gcd(a, b) == g)
        #expect(WindowMath.gcd(b, a) == g)
    }
}
