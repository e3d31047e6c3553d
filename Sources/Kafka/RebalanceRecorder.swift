import CRdKafka

/// Receives librdkafka's rebalance callback: applies the (incremental) assign or unassign, as
/// librdkafka requires, and records what happened for `Consumer.poll` to return.
///
/// Safe to share (`@unchecked Sendable`): `events` and `startOffsets` are guarded by `lock`.
final class RebalanceRecorder: @unchecked Sendable {
    private let lock = Lock()
    private var events: [(index: Int, event: RebalanceEvent)] = []
    /// The message array of the poll in progress: librdkafka fills it in order, so the number
    /// of filled slots when the callback runs is the event's position in the batch.
    /// (`rd_kafka_yield` cannot be used to end the batch early: in 2.0.2 the batch poll then
    /// drops the message it had just dequeued.)
    private var pollArray: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>?
    private var startOffsets: [TopicPartition: KafkaOffset] = [:]
    /// Called with newly assigned partitions before they are assigned; returns where they start.
    private var assignmentHandler: (@Sendable ([TopicPartition]) -> [TopicPartitionOffset])?
    /// Called with revoked partitions before they are unassigned.
    private var revocationHandler: (@Sendable ([TopicPartition]) -> Void)?

    /// Sets the handlers that run inside the rebalance itself (on the thread that polls, during
    /// the poll): one decides where newly assigned partitions start, one lets revoked ones go.
    func setHandlers(
        assigned: (@Sendable ([TopicPartition]) -> [TopicPartitionOffset])?, revoked: (@Sendable ([TopicPartition]) -> Void)?
    ) {
        lock.withLock {
            assignmentHandler = assigned
            revocationHandler = revoked
        }
    }

    /// Where newly assigned partitions start; others use the committed offset.
    func setStartOffsets(_ offsets: [TopicPartitionOffset]) {
        lock.withLock { for o in offsets { startOffsets[o.topicPartition] = o.offset } }
    }

    /// Marks the start (`array` set) and end (nil) of a batch poll into `array`.
    func setPollArray(
        _ array: UnsafeMutableBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>?
    ) {
        lock.withLock { pollArray = array }
    }

    /// The events recorded since the last call, each with the number of batch messages that
    /// preceded it.
    func takeEvents() -> [(index: Int, event: RebalanceEvent)] {
        lock.withLock {
            defer { events.removeAll() }
            return events
        }
    }

    func record(_ event: RebalanceEvent) {
        lock.withLock {
            let index = pollArray.map { $0.firstIndex(of: nil) ?? $0.count } ?? 0
            events.append((index, event))
        }
    }

    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let partitions, let opaque else { return }
            Unmanaged<RebalanceRecorder>.fromOpaque(opaque).takeUnretainedValue()
                .rebalance(rk, err, partitions)
        }
    }

    private func rebalance(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = TopicPartitionList.offsets(of: list).map(\.topicPartition)
        var failure: KafkaError?
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            // The handler runs outside the lock: it may take long (a state restore).
            if let handler = lock.withLock({ assignmentHandler }) {
                let chosen = handler(partitions)
                lock.withLock { for o in chosen { startOffsets[o.topicPartition] = o.offset } }
            }
            lock.withLock {
                for i in 0..<Int(list.pointee.cnt) {
                    let tp = partitions[i]
                    if let start = startOffsets[tp] {
                        list.pointee.elems[i].offset = start.rawValue
                    }
                }
            }
            if cooperative {
                failure = rd_kafka_incremental_assign(rk, list).map {
                    KafkaError("assign partitions", consuming: $0)
                }
            } else {
                let e = rd_kafka_assign(rk, list)
                if e != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError("assign partitions", e) }
            }
            record(failure.map { .failed($0.description) } ?? .assigned(partitions))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if let handler = lock.withLock({ revocationHandler }) { handler(partitions) }
            if cooperative {
                failure = rd_kafka_incremental_unassign(rk, list).map {
                    KafkaError("revoke partitions", consuming: $0)
                }
            } else {
                rd_kafka_assign(rk, nil)
            }
            record(.revoked(partitions))
            if let failure { record(.failed(failure.description)) }
        default:
            rd_kafka_assign(rk, nil)
            record(.failed(KafkaError("rebalance", err).description))
        }
    }
}
