/// The group key of the event at hand, built in one buffer reused for every event: appending to
/// it costs no array bookkeeping (uniqueness checks, range replacement) on the hot path. Its
/// owner calls `deallocate()` once.
struct KeyBuilder {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity, alignment: 8)
    }

    /// The bytes appended since the last `reset()`.
    @inline(__always) var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) mutating func reset() { count = 0 }

    @inline(__always) mutating func reserve(_ n: Int) {
        guard count + n > capacity else { return }
        var bigger = capacity * 2
        while bigger < count + n { bigger *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
        fresh.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = fresh
        capacity = bigger
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always) mutating func append(littleEndian v: UInt32) {
        reserve(4)
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always) mutating func append(littleEndian v: UInt64) {
        reserve(8)
        base.storeBytes(of: v.littleEndian, toByteOffset: count, as: UInt64.self)
        count += 8
    }

    @inline(__always) mutating func append(_ b: UnsafeRawBufferPointer) {
        guard let src = b.baseAddress, b.count > 0 else { return }
        reserve(b.count)
        (base + count).copyMemory(from: src, byteCount: b.count)
        count += b.count
    }

    func deallocate() { base.deallocate() }
}
