import CRdKafka

/// Counts failed deliveries reported by librdkafka's delivery-report callback.
///
/// Safe to share: every field is guarded by `lock` (the callback runs on whichever
/// thread calls poll or flush).
final class DeliveryTracker: @unchecked Sendable {
    private let lock = Lock()
    private var failures = 0
    private var firstFailure: KafkaError?

    /// Records one failed delivery.
    func recordFailure(_ error: KafkaError) {
        lock.withLock {
            failures += 1
            if firstFailure == nil { firstFailure = error }
        }
    }

    /// The failures since the last call, and the first of them; resets the count.
    func takeFailures() -> (count: Int, first: KafkaError?) {
        lock.withLock {
            defer {
                failures = 0
                firstFailure = nil
            }
            return (failures, firstFailure)
        }
    }

    /// Installs the callback on `conf`; the tracker must outlive the client (KafkaClient keeps it).
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR
            else { return }
            let tracker = Unmanaged<DeliveryTracker>.fromOpaque(opaque).takeUnretainedValue()
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
            tracker.recordFailure(
                KafkaError("deliver to \(topic)[\(message.pointee.partition)]", message.pointee.err)
            )
        }
    }
}
