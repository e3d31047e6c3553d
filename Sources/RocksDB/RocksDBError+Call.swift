import CRocksDB

extension RocksDBError {
    /// Runs a C call that reports failure through `char** errptr` and turns a set error into a thrown
    /// `RocksDBError` naming `operation`, after freeing RocksDB's message buffer.
    static func call<Result>(
        _ operation: @autoclosure () -> String,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Result
    ) throws(RocksDBError) -> Result {
        var error: UnsafeMutablePointer<CChar>? = nil
        let result = body(&error)
        if let error {
            let message = String(cString: error)
            rocksdb_free(error)
            throw RocksDBError(operation(), message)
        }
        return result
    }
}
