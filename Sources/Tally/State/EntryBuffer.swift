/// Key-value entries of one column family, bytes side by side in one buffer: a checkpoint of
/// hundreds of thousands of entries costs a few growing arrays instead of two allocations each.
struct EntryBuffer {
    var bytes: [UInt8] = []
    /// Per entry: where its key starts, the key's length, the value's length (the value follows the key).
    var spans: [(start: Int, keyCount: Int32, valueCount: Int32)] = []

    var count: Int { spans.count }

    /// Appends one entry: `key` writes the key's bytes, then `value` the value's.
    mutating func append(key: (inout [UInt8]) -> Void, value: (inout [UInt8]) -> Void) {
        let start = bytes.count
        key(&bytes)
        let keyEnd = bytes.count
        value(&bytes)
        spans.append((start, Int32(keyEnd - start), Int32(bytes.count - keyEnd)))
    }

    /// Calls `body` with every entry in key order; stops at the first error it throws.
    func forEachSorted<E: Error>(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        var failure: E?
        bytes.withUnsafeBytes { raw in
            func key(_ i: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: raw[spans[i].start..<(spans[i].start + Int(spans[i].keyCount))])
            }
            let order = spans.indices.sorted { a, b in key(a).lexicographicallyPrecedes(key(b)) }
            for i in order {
                let valueStart = spans[i].start + Int(spans[i].keyCount)
                do throws(E) {
                    try body(key(i), UnsafeRawBufferPointer(rebasing: raw[valueStart..<(valueStart + Int(spans[i].valueCount))]))
                } catch {
                    failure = error
                    return
                }
            }
        }
        if let failure { throw failure }
    }
}
