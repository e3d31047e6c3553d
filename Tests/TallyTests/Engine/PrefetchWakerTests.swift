import Testing
@testable import Tally

/// When `PrefetchWaker` wakes librdkafka's fetcher, from what it sees of the consumer.
@Suite struct PrefetchWakerTests {
    /// The wakes a policy with `limit` gives for successive (queue length, messages polled
    /// since the previous look), by index.
    static func wakes(limit: Int, _ seen: [(queued: Int, polled: Int)]) -> [Int] {
        var policy = PrefetchWaker.Policy(limit: limit)
        return seen.indices.filter { policy.shouldWake(queued: seen[$0].queued, polled: seen[$0].polled) }
    }

    /// Looks at a queue nobody polls in between.
    static func wakes(limit: Int, queued: [Int]) -> [Int] {
        wakes(limit: limit, queued.map { ($0, 0) })
    }

    @Test func aQueueThatNeverNearedTheLimitIsLeftAlone() {
        // The fetcher only stops at the limit: below ⅞ of it nothing needs waking.
        #expect(Self.wakes(limit: 1000, queued: [0, 10, 500, 874, 300, 0, 0, 874, 0]).isEmpty)
        #expect(Self.wakes(limit: 1000, [(0, 0), (200, 300), (100, 500), (0, 874), (0, 0)]).isEmpty)
    }

    @Test func aQueueThatFilledIsWokenOnceWhenAQuarterTaken() {
        // Filled (fetching may have stopped), a quarter taken: one wake; then shorter queues
        // do not wake again until the queue has been near the limit once more.
        #expect(Self.wakes(limit: 1000, queued: [200, 1000, 1200, 900, 800, 751, 750, 400, 0, 0, 800]) == [6])
        #expect(Self.wakes(limit: 1000, queued: [875, 0, 0, 880, 749, 1000, 1000, 0]) == [1, 4, 7])
    }

    @Test func aFullQueueTakenInOneBatchIsWokenAtOnce() {
        // The queue reached the limit and a poll took it all between two looks: the look sees
        // an empty queue, and only the polled count tells that fetching may have stopped.
        #expect(Self.wakes(limit: 1000, [(0, 0), (0, 1050), (0, 0), (300, 0), (0, 600), (0, 300), (100, 900)]) == [1, 6])
        #expect(Self.wakes(limit: 1000, [(500, 500), (400, 100), (800, 0), (0, 800)]) == [0])
    }

    @Test func tinyLimitsStillWake() {
        // Limits below 4 count as 4: armed at 4, woken at 3 or less.
        #expect(Self.wakes(limit: 1, queued: [1, 0, 4, 3, 0]) == [3])
        #expect(Self.wakes(limit: 0, queued: [0, 5, 0]) == [2])
    }
}
