import CRdKafka

/// Builds an `rd_kafka_conf_t` from string properties, reporting librdkafka's own complaint.
enum KafkaConfig {
    /// A new configuration object; the caller passes it to `rd_kafka_new` (which takes it over)
    /// or destroys it.
    static func make(_ properties: [String: String], for operation: String) throws -> OpaquePointer
    {
        let conf = rd_kafka_conf_new()!
        var buffer = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, name, value, &buffer, buffer.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(operation, "property \(name)=\(value): " + string(buffer))
            }
        }
        return conf
    }

    /// A C string in a buffer, as a Swift String.
    static func string(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
