import Tally
import Testing

/// Reference values from Kafka's own tests of its partitioner, and from kafka-python's separate
/// implementation (which returns the same 32 bits unsigned).
@Test(arguments: [
    ("21", Int32(-973_932_308)),
    ("foobar", -790_332_482),
    ("a-little-bit-long-string", -985_981_536),
    ("a-little-bit-longer-string", -1_486_304_829),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
    ("abc", 479_470_107),
    ("", 275_646_681),
    ("c6468", 125_687_878),
    ("é", 186_971_271),
])
func murmur2MatchesKafka(key: String, expected: Int32) {
    #expect(Murmur2.hash(Array(key.utf8)) == expected)
}

@Test func partitionIsThePositiveHashModuloTheCount() {
    #expect(Murmur2.partition(of: Array("21".utf8), count: 8) == 4)
    #expect(Murmur2.partition(of: Array("foobar".utf8), count: 8) == 6)
    #expect(Murmur2.partition(of: Array("a-little-bit-long-string".utf8), count: 3) == 2)
    #expect(Murmur2.partition(of: Array("customer-42".utf8), count: 8) == 1)
    #expect(Murmur2.partition(of: Array("é".utf8), count: 8) == 7)
    for n in 1...12 {
        for key in ["x", "yy", "zzz", "wwww", "vvvvv"] {
            let p = Murmur2.partition(of: Array(key.utf8), count: Int32(n))
            #expect(p >= 0 && p < Int32(n))
        }
    }
}
