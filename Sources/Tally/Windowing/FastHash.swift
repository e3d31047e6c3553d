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
///
/// A slot is one word, the entry id beside the low 32 bits of its hash, so a probe reads one
/// cache line, not one per array; the table is at most half full, which keeps probes for absent
/// entries (every new key and accumulator) short.
struct ProbeTable {
    private(set) var slots: [UInt64]
    private(set) var count = 0
    var mask: Int

    static let empty = UInt64.max

    init(capacity: Int = 1024) {
        var c = 16
        while c < capacity { c <<= 1 }
        slots = Array(repeating: Self.empty, count: c)
        mask = c - 1
    }

    @inline(__always) static func slot(_ entry: Int32, _ hash: UInt64) -> UInt64 {
        hash << 32 | UInt64(UInt32(bitPattern: entry))
    }

    @inline(__always) static func entry(_ slot: UInt64) -> Int32 { Int32(truncatingIfNeeded: slot) }

    /// The entry with `hash` for which `matches` holds.
    @inline(__always) func find(_ hash: UInt64, _ matches: (Int32) -> Bool) -> Int32? {
        let tag = hash << 32
        return slots.withUnsafeBufferPointer { s in
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let v = s[i]
                if v == Self.empty { return nil }
                if v & 0xFFFF_FFFF_0000_0000 == tag, matches(Self.entry(v)) { return Self.entry(v) }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Reads the slot where a probe for `hash` starts, so that the probe finds it in cache: the
    /// reads of a group of lookups overlap instead of each waiting for memory (the value is
    /// meaningless; fold it into something kept, or the read is optimised away).
    @inline(__always) func touch(_ hash: UInt64) -> UInt64 {
        slots[Int(truncatingIfNeeded: hash) & mask]
    }

    /// Grows now, if needed, so that `total` entries fit without growing (slots touched before
    /// a group of inserts stay where they are).
    mutating func reserve(_ total: Int) {
        while total * 2 > slots.count { grow() }
    }

    /// Adds `entry` under `hash` (not already present).
    mutating func insert(_ entry: Int32, hash: UInt64) {
        if (count + 1) * 2 > slots.count { grow() }
        let m = mask
        slots.withUnsafeMutableBufferPointer { s in
            var i = Int(truncatingIfNeeded: hash) & m
            while s[i] != Self.empty { i = (i &+ 1) & m }
            s[i] = Self.slot(entry, hash)
        }
        count += 1
    }

    /// Removes `entry`, stored under `hash`.
    mutating func remove(_ entry: Int32, hash: UInt64) {
        let m = mask
        let removed = slots.withUnsafeMutableBufferPointer { s -> Bool in
            var i = Int(truncatingIfNeeded: hash) & m
            while Self.entry(s[i]) != entry {
                if s[i] == Self.empty { return false }
                i = (i &+ 1) & m
            }
            // Backward shift: pull later entries of the run into the hole when their home allows it.
            var j = i
            while true {
                j = (j &+ 1) & m
                let v = s[j]
                if v == Self.empty { break }
                let home = Int(truncatingIfNeeded: v >> 32) & m
                let between = i <= j ? (home > i && home <= j) : (home > i || home <= j)
                if !between {
                    s[i] = v
                    i = j
                }
            }
            s[i] = Self.empty
            return true
        }
        if removed { count -= 1 }
    }

    mutating func grow() {
        let old = slots
        let c = old.count * 2
        slots = Array(repeating: Self.empty, count: c)
        mask = c - 1
        count = 0
        for v in old where v != Self.empty { insert(Self.entry(v), hash: v >> 32) }
    }
}
