import Kafka
import Testing

/// Produces `count` one-byte messages to partition 0.
private func fill(_ env: TestCluster, count: Int, partition: Int32 = 0) throws {
    let producer = try env.producer()
    for i in 0..<count {
        try producer.produce(
            topic: env.topic, partition: partition, key: nil, value: [UInt8(i % 256)])
    }
    try producer.flush(timeout: .seconds(10))
}

@Test func seekMovesAnAssignedPartitionToTheGivenOffset() throws {
    let env = try TestCluster(partitions: 1)
    try fill(env, count: 100)
    let consumer = try env.consumer()
    try consumer.assign([TopicPartitionOffset(env.topic, 0, .beginning)])
    var offsets: [Int64] = []
    try pollUntil(consumer) { batch in
        offsets += batch.map(\.offset)
        return offsets.count == 100
    }
    #expect(offsets.count == 100)

    try consumer.seek([TopicPartitionOffset(env.topic, 0, KafkaOffset(50))])
    var after: [Int64] = []
    try pollUntil(consumer) { batch in
        after += batch.map(\.offset)
        return after.count >= 50
    }
    #expect(after.first == 50)
    #expect(after.count == 50)
}

@Test func assignStartsAtTheGivenOffset() throws {
    let env = try TestCluster(partitions: 1)
    try fill(env, count: 10)
    let consumer = try env.consumer()
    try consumer.assign([TopicPartitionOffset(env.topic, 0, KafkaOffset(7))])
    var offsets: [Int64] = []
    try pollUntil(consumer) { batch in
        offsets += batch.map(\.offset)
        return offsets.count >= 3
    }
    #expect(offsets == [7, 8, 9])
}

@Test func watermarksAndPartitionsReflectTheTopic() throws {
    let env = try TestCluster()
    try fill(env, count: 30, partition: 1)
    let consumer = try env.consumer()
    let marks = try consumer.queryWatermarks(topic: env.topic, partition: 1)
    #expect(marks.low == 0 && marks.high == 30)
    #expect(try consumer.queryWatermarks(topic: env.topic, partition: 2).high == 0)
    #expect(try consumer.partitions(of: env.topic) == [0, 1, 2, 3])
    #expect(try env.producer().partitionCount(topic: env.topic) == 4)
}

@Test func committedOffsetsAreReadBack() throws {
    let env = try TestCluster()
    let consumer = try env.consumer(group: "committer")
    let p0 = TopicPartition(env.topic, 0)
    let p1 = TopicPartition(env.topic, 1)
    #expect(try consumer.committed([p0]).first?.offset == .invalid)
    try consumer.commit([
        TopicPartitionOffset(p0, KafkaOffset(12)), TopicPartitionOffset(p1, KafkaOffset(3)),
    ])
    let read = try consumer.committed([p0, p1])
    #expect(read.map(\.offset) == [KafkaOffset(12), KafkaOffset(3)])
}

@Test func outOfRangeStartComesBackAsAnErrorMessageWithCode() throws {
    let env = try TestCluster(partitions: 1)
    try fill(env, count: 5)
    let consumer = try env.consumer(["auto.offset.reset": "error"])
    try consumer.assign([TopicPartitionOffset(env.topic, 0, KafkaOffset(1000))])
    var error: KafkaError?
    try pollUntil(consumer) { batch in
        error = batch.lazy.compactMap(\.error).first
        return error != nil
    }
    #expect(error?.code == KafkaError.autoOffsetReset)
}

@Test func endOfPartitionIsReportedButIsNotAnError() throws {
    let env = try TestCluster(partitions: 1)
    try fill(env, count: 3)
    let consumer = try env.consumer(["enable.partition.eof": "true"])
    try consumer.assign([TopicPartitionOffset(env.topic, 0, .beginning)])
    var data = 0
    var eofOffset: Int64?
    try pollUntil(consumer) { batch in
        for message in batch {
            #expect(message.error == nil)
            if message.isPartitionEOF { eofOffset = message.offset } else { data += 1 }
        }
        return eofOffset != nil
    }
    #expect(data == 3)
    #expect(eofOffset == 3)
}
