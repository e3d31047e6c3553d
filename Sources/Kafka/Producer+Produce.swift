import CRdKafka

extension Producer {
    /// Queues one message; librdkafka copies `key`, `value` and `headers`, so the buffers may be
    /// reused at once. `partition` nil lets the partitioner choose (by key). When the local queue
    /// is full, this serves delivery reports and retries, so a fast caller is slowed, not failed.
    /// `timestamp` (milliseconds since the epoch) nil lets librdkafka stamp the record now.
    public func produce(
        topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer, headers: [(String, [UInt8])] = [], timestamp: Int64? = nil
    ) throws {
        let rkt = try topicHandle(topic)
        // Stack storage: no heap allocation per message for the field array.
        try withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { fields in
            fields.initialize(repeating: rd_kafka_vu_t())
            fields[0].vtype = RD_KAFKA_VTYPE_RKT
            fields[0].u.rkt = rkt.handle
            fields[1].vtype = RD_KAFKA_VTYPE_PARTITION
            fields[1].u.i32 = partition ?? RD_KAFKA_PARTITION_UA
            fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
            fields[2].u.i = RD_KAFKA_MSG_F_COPY
            fields[3].vtype = RD_KAFKA_VTYPE_VALUE
            fields[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
            fields[3].u.mem.size = value.count
            fields[4].vtype = RD_KAFKA_VTYPE_KEY
            fields[4].u.mem.ptr = key.flatMap { UnsafeMutableRawPointer(mutating: $0.baseAddress) }
            fields[4].u.mem.size = key?.count ?? 0
            var count = 5
            if let timestamp {
                fields[5].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                fields[5].u.i64 = timestamp
                count = 6
            }
            var headerField = -1
            if !headers.isEmpty {
                // Handed to librdkafka on success; ours to destroy on failure.
                let list = rd_kafka_headers_new(headers.count)!
                for (name, bytes) in headers {
                    bytes.withUnsafeBytes {
                        _ = rd_kafka_header_add(list, name, -1, $0.baseAddress, $0.count)
                    }
                }
                headerField = count
                fields[count].vtype = RD_KAFKA_VTYPE_HEADERS
                fields[count].u.headers = list
                count += 1
            }
            while true {
                guard let error = rd_kafka_produceva(client.handle, fields.baseAddress, count)
                else {
                    return
                }
                if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    rd_kafka_error_destroy(error)
                    rd_kafka_poll(client.handle, 100)
                    continue
                }
                if headerField >= 0 { rd_kafka_headers_destroy(fields[headerField].u.headers) }
                throw KafkaError("produce to \(topic)", consuming: error)
            }
        }
    }

    /// Queues one message from byte arrays; see the buffer-pointer variant. A nil `value` is a
    /// null value: a tombstone, which a compacted topic uses to forget the key.
    public func produce(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
        headers: [(String, [UInt8])] = []
    ) throws {
        guard let value else {
            let null = UnsafeRawBufferPointer(start: nil, count: 0)
            if let key {
                try key.withUnsafeBytes { try produce(topic: topic, partition: partition, key: $0, value: null, headers: headers) }
            } else {
                try produce(topic: topic, partition: partition, key: nil, value: null, headers: headers)
            }
            return
        }
        try value.withUnsafeBytes { valueBytes in
            if let key {
                try key.withUnsafeBytes {
                    try produce(
                        topic: topic, partition: partition, key: $0, value: valueBytes,
                        headers: headers)
                }
            } else {
                try produce(
                    topic: topic, partition: partition, key: nil, value: valueBytes,
                    headers: headers)
            }
        }
    }
}
