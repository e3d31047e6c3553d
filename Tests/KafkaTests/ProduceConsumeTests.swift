import Kafka
import Testing

@Test func tenThousandKeyedMessagesWithHeadersComeBackThroughBatchConsumer() throws {
    let env = try TestCluster()
    let producer = try env.producer()
    for i in 0..<10_000 {
        try producer.produce(
            topic: env.topic, key: Array("k\(i)".utf8), value: Array("value-\(i)".utf8),
            headers: [("n", Array(String(i).utf8)), ("source", Array("test".utf8))])
    }
    try producer.flush(timeout: .seconds(30))

    let consumer = try env.consumer()
    try consumer.assign((0..<4).map { TopicPartitionOffset(env.topic, $0, .beginning) })
    var seen = Set<Int>()
    var partitions = Set<Int32>()
    var problems: [String] = []
    try pollUntil(consumer) { batch in
        for message in batch {
            guard message.error == nil, let key = message.key else {
                problems.append("error or no key at \(message.offset)")
                continue
            }
            let n = Int(key.text.dropFirst())!
            if message.payload.text != "value-\(n)" { problems.append("payload of \(n)") }
            if message.header("n")?.text != String(n) { problems.append("header n of \(n)") }
            let headers = message.headers()
            if headers.map(\.name) != ["n", "source"] || headers[1].value != Array("test".utf8) {
                problems.append("headers of \(n)")
            }
            if message.topic != env.topic || message.timestamp == nil {
                problems.append("meta \(n)")
            }
            seen.insert(n)
            partitions.insert(message.partition)
        }
        return seen.count == 10_000
    }
    #expect(problems.isEmpty, "\(problems.prefix(5))")
    #expect(seen.count == 10_000)
    #expect(partitions == [0, 1, 2, 3])
}

@Test func sameKeyAlwaysLandsInSamePartition() throws {
    let env = try TestCluster()
    let producer = try env.producer()
    for i in 0..<200 {
        try producer.produce(topic: env.topic, key: Array("k\(i % 5)".utf8), value: [UInt8(i)])
    }
    try producer.flush(timeout: .seconds(10))
    let consumer = try env.consumer()
    try consumer.assign((0..<4).map { TopicPartitionOffset(env.topic, $0, .beginning) })
    var partitionOfKey: [String: Set<Int32>] = [:]
    var count = 0
    try pollUntil(consumer) { batch in
        for message in batch {
            partitionOfKey[message.key!.text, default: []].insert(message.partition)
            count += 1
        }
        return count == 200
    }
    #expect(count == 200)
    #expect(partitionOfKey.values.allSatisfy { $0.count == 1 })
}
