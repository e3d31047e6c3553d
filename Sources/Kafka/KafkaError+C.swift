import CRdKafka

// Every librdkafka failure becomes a thrown KafkaError here, so call sites stay one line.
extension KafkaError {
    /// An error from a response code, with librdkafka's text for it.
    init(_ operation: String, _ err: rd_kafka_resp_err_t) {
        self.init(operation, String(cString: rd_kafka_err2str(err)), code: Int(err.rawValue))
    }

    /// Takes ownership of `error` (destroys it) and turns it into a KafkaError.
    init(_ operation: String, consuming error: OpaquePointer) {
        let message = String(cString: rd_kafka_error_string(error))
        let code = Int(rd_kafka_error_code(error).rawValue)
        rd_kafka_error_destroy(error)
        self.init(operation, message, code: code)
    }

    /// Throws unless `err` is `RD_KAFKA_RESP_ERR_NO_ERROR`.
    static func check(_ err: rd_kafka_resp_err_t, _ operation: @autoclosure () -> String) throws {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation(), err) }
    }

    /// Throws when librdkafka returned an `rd_kafka_error_t` (destroying it); nil means success.
    static func check(_ error: OpaquePointer?, _ operation: @autoclosure () -> String) throws {
        if let error { throw KafkaError(operation(), consuming: error) }
    }
}
