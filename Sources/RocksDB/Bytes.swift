/// Passing Swift bytes to RocksDB's `const char*, size_t` pairs without copying.
///
/// An empty Swift buffer may have no base address; RocksDB then gets a pointer to a static empty
/// string instead of NULL, because its Slice compares keys with `memcmp`, where NULL is undefined even
/// for a length of 0.
enum Bytes {
    static var empty: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }

    /// The start of `buffer` as RocksDB wants it.
    @inline(__always)
    static func start(_ buffer: UnsafeRawBufferPointer) -> UnsafePointer<CChar> {
        (buffer.baseAddress ?? empty).assumingMemoryBound(to: CChar.self)
    }

    /// Copies RocksDB's `length` bytes at `pointer` into an array.
    @inline(__always)
    static func array(_ pointer: UnsafePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    /// `bytes` as a raw buffer, with RocksDB's typed error passed through (`withUnsafeBytes` only
    /// rethrows `any Error`).
    @inline(__always)
    static func with<Result>(
        _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(RocksDBError) -> Result
    ) throws(RocksDBError) -> Result {
        let result: Swift.Result<Result, RocksDBError> = bytes.withUnsafeBytes { buffer in
            Swift.Result { () throws(RocksDBError) in try body(buffer) }
        }
        return try result.get()
    }

    /// Two byte arrays as raw buffers, with RocksDB's typed error passed through.
    @inline(__always)
    static func with<Result>(
        _ first: [UInt8], _ second: [UInt8],
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(RocksDBError) -> Result
    ) throws(RocksDBError) -> Result {
        try with(first) { first throws(RocksDBError) in
            try with(second) { second throws(RocksDBError) in try body(first, second) }
        }
    }
}
