import Kafka
import Testing

@Test func flushThrowsWhenAMessageWentToAMissingPartition() throws {
    let env = try TestCluster()
    let producer = try env.producer()
    try producer.produce(topic: env.topic, partition: 0, key: nil, value: [1])
    try producer.produce(topic: env.topic, partition: 99, key: nil, value: [2])
    let error = #expect(throws: KafkaError.self) { try producer.flush(timeout: .seconds(10)) }
    #expect(error?.code == KafkaError.unknownPartition)
    // The failure was reported once; the next flush starts clean.
    try producer.flush(timeout: .seconds(1))
}

@Test func flushThrowsWhenDeliveryTimesOutWithNoBroker() throws {
    // Port 1 on loopback: nothing listens, so the message expires after message.timeout.ms.
    let producer = try Producer(config: [
        "bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": "300", "log_level": "0",
    ])
    try producer.produce(topic: "t", partition: 0, key: nil, value: [1])
    let error = #expect(throws: KafkaError.self) { try producer.flush(timeout: .seconds(5)) }
    #expect(error?.code == KafkaError.messageTimedOut)
}

@Test func flushThrowsWhenMessagesRemainAfterTheTimeout() throws {
    let producer = try Producer(config: ["bootstrap.servers": "127.0.0.1:1", "log_level": "0"])
    try producer.produce(topic: "t", partition: 0, key: nil, value: [1])
    let error = #expect(throws: KafkaError.self) { try producer.flush(timeout: .milliseconds(100)) }
    #expect(error?.message.contains("1 message(s) still undelivered") == true)
    #expect(producer.pendingCount == 1)
}

@Test func badPropertyIsRejectedWithLibrdkafkasReason() {
    let error = #expect(throws: KafkaError.self) { try Producer(config: ["no.such.property": "1"]) }
    #expect(error?.message.contains("no.such.property") == true)
}
