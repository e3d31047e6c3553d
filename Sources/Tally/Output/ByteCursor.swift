/// Writes bytes through a pointer into space reserved beforehand: no capacity or uniqueness
/// check per byte. `ByteCursor.append(to:reserving:_:)` reserves, writes, and trims.
public struct ByteCursor {
    /// Where the next byte goes.
    public var next: UnsafeMutablePointer<UInt8>

    @inline(__always) mutating func put(_ b: UInt8) {
        next.initialize(to: b)
        next += 1
    }

    @inline(__always) mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        next.initialize(from: base, count: bytes.count)
        next += bytes.count
    }

    @inline(__always) mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// Appends to `out` what `body` writes, which must be at most `bound` bytes.
    @inline(__always)
    public static func append(to out: inout [UInt8], reserving bound: Int, _ body: (inout ByteCursor) -> Void) {
        let old = out.count
        out.append(contentsOf: repeatElement(0, count: bound))
        let used = out.withUnsafeMutableBufferPointer { buf -> Int in
            let start = buf.baseAddress! + old
            var c = ByteCursor(next: start)
            body(&c)
            return start.distance(to: c.next)
        }
        precondition(used <= bound, "ByteCursor overflow")
        out.removeLast(bound - used)
    }
}
