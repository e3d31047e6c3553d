import Kafka
import Synchronization
import Testing

@Test func subscribingConsumerReceivesAllPartitionsAsAssignedEvent() throws {
    let env = try TestCluster()
    let consumer = try env.consumer(group: "solo")
    try consumer.subscribe([env.topic])
    var assigned: [TopicPartition] = []
    try pollUntil(consumer) { batch in
        for case .assigned(let partitions) in batch.rebalances.map(\.event) {
            assigned += partitions
        }
        return !assigned.isEmpty
    }
    #expect(Set(assigned) == Set((0..<4).map { TopicPartition(env.topic, $0) }))
    #expect(Set(try consumer.assignment()) == Set(assigned))
}

/// The mock coordinator ends a rebalance only when its timeout (derived from the session
/// timeout) expires, even after every member has rejoined; a short session keeps tests fast.
private let quickGroup = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]

@Test func secondMemberSplitsPartitionsAndFirstSeesRevocation() throws {
    let env = try TestCluster()
    let first = try env.consumer(group: "pair", quickGroup)
    try first.subscribe([env.topic])
    try pollUntil(first) { batch in !batch.rebalances.isEmpty }

    let second = try env.consumer(group: "pair", quickGroup)
    try second.subscribe([env.topic])
    var firstEvents: [RebalanceEvent] = []
    var secondAssigned: Set<TopicPartition> = []
    let deadline = ContinuousClock.Instant.after(30)
    // Both members must keep polling for the group to settle.
    while ContinuousClock.now < deadline {
        firstEvents += try first.poll(maxMessages: 100, timeout: .milliseconds(50)).rebalances.map(
            \.event)
        let events = try second.poll(maxMessages: 100, timeout: .milliseconds(50)).rebalances
            .map(\.event)
        for case .assigned(let p) in events { secondAssigned.formUnion(p) }
        let settled =
            try !secondAssigned.isEmpty
            && first.assignment().count + secondAssigned.count == 4
        if settled { break }
    }
    let firstNow = Set(try first.assignment())
    #expect(firstEvents.contains { if case .revoked = $0 { true } else { false } })
    #expect(!secondAssigned.isEmpty && !firstNow.isEmpty)
    #expect(firstNow.isDisjoint(with: secondAssigned))
    #expect(firstNow.union(secondAssigned).count == 4)
}

@Test func startOffsetsApplyToGroupAssignedPartitions() throws {
    let env = try TestCluster(partitions: 1)
    let producer = try env.producer()
    for i in 0..<20 {
        try producer.produce(topic: env.topic, partition: 0, key: nil, value: [UInt8(i)])
    }
    try producer.flush(timeout: .seconds(10))
    let consumer = try env.consumer(group: "resume")
    consumer.setStartOffsets([TopicPartitionOffset(env.topic, 0, KafkaOffset(15))])
    try consumer.subscribe([env.topic])
    var offsets: [Int64] = []
    var assignedBeforeMessages = false
    try pollUntil(consumer) { batch in
        if offsets.isEmpty, let first = batch.rebalances.first, case .assigned = first.event {
            assignedBeforeMessages = first.index == 0
        }
        offsets += batch.map(\.offset)
        return offsets.count >= 5
    }
    #expect(offsets == [15, 16, 17, 18, 19])
    #expect(assignedBeforeMessages)
}

@Test func theAssignmentHandlerDecidesWhereAssignedPartitionsStart() throws {
    let env = try TestCluster(partitions: 2)
    let producer = try env.producer()
    for p in Int32(0)..<2 {
        for i in 0..<20 { try producer.produce(topic: env.topic, partition: p, key: nil, value: [UInt8(i)]) }
    }
    try producer.flush(timeout: .seconds(10))
    let consumer = try env.consumer(group: "handler")
    let seen = Mutex<[TopicPartition]>([])
    consumer.setRebalanceHandlers(
        assigned: { partitions in
            seen.withLock { $0 += partitions }
            // Partition 0 from offset 12, partition 1 from 17.
            return partitions.map { TopicPartitionOffset($0.topic, $0.partition, KafkaOffset($0.partition == 0 ? 12 : 17)) }
        },
        revoked: nil)
    try consumer.subscribe([env.topic])
    var offsets: [Int32: [Int64]] = [:]
    try pollUntil(consumer) { batch in
        for m in batch where m.error == nil && !m.isPartitionEOF { offsets[m.partition, default: []].append(m.offset) }
        return offsets[0, default: []].count >= 8 && offsets[1, default: []].count >= 3
    }
    #expect(Set(seen.withLock { $0 }) == [TopicPartition(env.topic, 0), TopicPartition(env.topic, 1)])
    #expect(offsets[0] == Array(12..<20))
    #expect(offsets[1] == Array(17..<20), "no message from before the handler's offset: nothing was fetched from elsewhere first")
}
