/// A fast, seeded 64-bit hash for group keys and accumulator addresses. Swift's `Hasher`
/// (SipHash) cost ~10% of the offline hot path; this is a multiply–xorshift mix over 8-byte words
/// with a per-process random seed, so crafted keys cannot aim for collisions across runs.
enum FastHash {
    /// The process's seed; read it once into a stored property (a static costs a `swift_once` check).
    static let processSeed: UInt64 = UInt64.random(in: 1...UInt64.max)

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return z ^ (z >> 32)
    }

    /// Hash of a byte string.
    @inline(__always) static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            h = mix(h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { tail |= UInt64(bytes[i]) << shift; shift += 8; i += 1 }
            h = mix(h ^ tail ^ 0xFF)
        }
        return mix(h)
    }

    /// Hash of a (key index, slice start) pair.
    @inline(__always) static func hash(_ key: Int32, _ slice: Int64, seed: UInt64) -> UInt64 {
        mix(seed ^ UInt64(bitPattern: slice) ^ (UInt64(UInt32(bitPattern: key)) << 40 | UInt64(UInt32(bitPattern: key)) >> 24))
    }
}

/// An open-addressing hash table (linear probing, backward-shift deletion) from a 64-bit hash to
/// an `Int32` entry id; the caller keeps the entries and says whether a candidate matches.
struct ProbeTable {
    private(set) var slots: [Int32]  // entry id, or -1
    private(set) var slotHashes: [UInt64]
    private(set) var count = 0
    var mask: Int

    init(capacity: Int = 1024) {
        var c = 16
        while c < capacity { c <<= 1 }
        slots = Array(repeating: -1, count: c)
        slotHashes = Array(repeating: 0, count: c)
        mask = c - 1
    }

    /// The entry with `hash` for which `matches` holds.
    @inline(__always) func find(_ hash: UInt64, _ matches: (Int32) -> Bool) -> Int32? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let e = slots[i]
            if e < 0 { return nil }
            if slotHashes[i] == hash && matches(e) { return e }
            i = (i + 1) & mask
        }
    }

    /// Reads the slot where a probe for `hash` starts, so that the probe finds it in cache: the
    /// reads of a group of lookups overlap instead of each waiting for memory (the value is
    /// meaningless; fold it into something kept, or the read is optimised away).
    @inline(__always) func touch(_ hash: UInt64) -> UInt64 {
        let i = Int(truncatingIfNeeded: hash) & mask
        return slotHashes[i] &+ UInt64(UInt32(bitPattern: slots[i]))
    }

    /// Grows now, if needed, so that `total` entries fit without growing (slots touched before
    /// a group of inserts stay where they are).
    mutating func reserve(_ total: Int) {
        while total * 4 > slots.count * 3 { grow() }
    }

    /// Adds `entry` under `hash` (not already present).
    mutating func insert(_ entry: Int32, hash: UInt64) {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = entry
        slotHashes[i] = hash
        count += 1
    }

    /// Removes `entry`, stored under `hash`.
    mutating func remove(_ entry: Int32, hash: UInt64) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != entry {
            if slots[i] < 0 { return }
            i = (i + 1) & mask
        }
        // Backward shift: pull later entries of the run into the hole when their home allows it.
        var j = i
        while true {
            j = (j + 1) & mask
            if slots[j] < 0 { break }
            let home = Int(truncatingIfNeeded: slotHashes[j]) & mask
            let between = i <= j ? (home > i && home <= j) : (home > i || home <= j)
            if !between {
                slots[i] = slots[j]
                slotHashes[i] = slotHashes[j]
                i = j
            }
        }
        slots[i] = -1
        count -= 1
    }

    mutating func grow() {
        let oldSlots = slots, oldHashes = slotHashes
        let c = oldSlots.count * 2
        slots = Array(repeating: -1, count: c)
        slotHashes = Array(repeating: 0, count: c)
        mask = c - 1
        count = 0
        for (i, e) in oldSlots.enumerated() where e >= 0 { insert(e, hash: oldHashes[i]) }
    }
}
