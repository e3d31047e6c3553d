import Testing

@testable import Kafka

@Test func errorNamesOperationAndReason() {
    #expect(
        KafkaError("create consumer", "no brokers").description == "create consumer: no brokers")
}
