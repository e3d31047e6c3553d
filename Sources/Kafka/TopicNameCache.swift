import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Topic names by `rd_kafka_topic_t` pointer, so a message's topic costs no String allocation.
/// The name is compared too (strcmp), in case librdkafka reuses a freed handle's address.
final class TopicNameCache {
    private var entries: [(rkt: OpaquePointer, name: String)] = []

    func name(of rkt: OpaquePointer) -> String {
        let cName = rd_kafka_topic_name(rkt)!
        for entry in entries where entry.rkt == rkt {
            let same = entry.name.withCString { strcmp($0, cName) == 0 }
            if same { return entry.name }
        }
        let name = String(cString: cName)
        entries.removeAll { $0.rkt == rkt }
        entries.append((rkt, name))
        return name
    }
}
