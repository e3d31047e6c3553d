import CRdKafka

/// The messages one `Consumer.poll` returned, owned until `release()` or deinit; the
/// `KafkaMessage` views it hands out point into these messages.
///
/// Rebalances that happened during the poll are in `rebalances`, each with its position: an
/// event at `index` i came after messages `0..<i` and before the rest. So a caller that applies
/// each event when it reaches its index sees every message under the assignment it came from.
public final class MessageBatch: RandomAccessCollection {
    private var messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    /// librdkafka's destroy waits for every message to be freed, so the batch keeps its client.
    private let client: AnyObject
    private var topics: [String] = []
    private var topicIndex: [UInt16] = []
    /// The number of messages (0 after `release()`).
    public private(set) var count: Int
    /// Assignment changes during this poll, in order, each with the number of messages of this
    /// batch that came before it.
    public let rebalances: [(index: Int, event: RebalanceEvent)]

    init(
        messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int,
        rebalances: [(index: Int, event: RebalanceEvent)], names: TopicNameCache,
        client: AnyObject
    ) {
        self.client = client
        self.messages = messages
        self.count = count
        self.rebalances = rebalances
        topicIndex.reserveCapacity(count)
        var lastRkt: OpaquePointer?
        var lastIndex: UInt16 = 0
        for i in 0..<count {
            guard let rkt = messages[i]!.pointee.rkt else {
                // An error not tied to a topic: index of an empty name.
                topicIndex.append(slot(for: ""))
                continue
            }
            if rkt != lastRkt {
                lastRkt = rkt
                lastIndex = slot(for: names.name(of: rkt))
            }
            topicIndex.append(lastIndex)
        }
    }

    deinit { release() }

    private func slot(for name: String) -> UInt16 {
        if let i = topics.firstIndex(of: name) { return UInt16(i) }
        topics.append(name)
        return UInt16(topics.count - 1)
    }

    /// Destroys the messages now (every `KafkaMessage` view of them becomes invalid).
    public func release() {
        for i in 0..<count { rd_kafka_message_destroy(messages[i]) }
        count = 0
        messages.deallocate()
        messages = .allocate(capacity: 0)
    }

    /// 0.
    public var startIndex: Int { 0 }
    /// `count`.
    public var endIndex: Int { count }

    /// The message at `index`, valid while this batch lives and is not released.
    public subscript(index: Int) -> KafkaMessage {
        precondition(index >= 0 && index < count, "message index out of range")
        return KafkaMessage(messages[index]!, topic: topics[Int(topicIndex[index])])
    }
}
