/// The fields extracted from one event, valid only while the scan that made it is in progress.
public struct EventView {
    /// The event's bytes.
    public let source: UnsafeRawBufferPointer
    /// Decoded strings that held escapes.
    public let scratch: UnsafeRawBufferPointer
    /// One value per slot of the plan.
    public let fields: UnsafeBufferPointer<FieldValue>

    /// The value in `slot`.
    @inline(__always) public subscript(slot: Int) -> FieldValue { fields[slot] }

    /// The bytes of a `.string` value.
    @inline(__always) public func bytes(of v: FieldValue) -> UnsafeRawBufferPointer {
        let buf = v.inScratch ? scratch : source
        return UnsafeRawBufferPointer(rebasing: buf[Int(v.stringStart)..<Int(v.stringStart + v.stringCount)])
    }

    /// The string value of `slot` as a Swift string (for tests and slow paths).
    public func string(_ slot: Int) -> String? {
        let v = fields[slot]
        guard v.kind == .string else { return nil }
        return String(decoding: bytes(of: v), as: UTF8.self)
    }
}
