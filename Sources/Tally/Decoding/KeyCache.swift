/// The object keys an `EventScanner` met last time, per (trie node, position in its object).
///
/// Events of one topic mostly repeat their keys in one order. A key whose bytes, closing quote
/// included, equal the cached ones is the same escape-free, already validated string: it is
/// matched with a few word compares instead of being read byte by byte and looked up in the trie.
struct KeyCache {
    /// Sentinel of `match` when the cache does not know the key at this place.
    static let miss = Int.min
    /// Positions cached per object, and the longest key cached (closing quote included).
    static let positions = 16, width = 32

    /// Per entry `width` bytes: the key and its closing quote.
    let bytes: UnsafeMutablePointer<UInt8>
    /// Per entry: the cached length (0: empty) and the trie child the key names (-1: none).
    let length: UnsafeMutablePointer<Int>
    let child: UnsafeMutablePointer<Int>

    init(nodes: Int) {
        let count = max(nodes, 1) * Self.positions
        bytes = .allocate(capacity: count * Self.width)
        bytes.initialize(repeating: 0, count: count * Self.width)
        length = .allocate(capacity: count)
        length.initialize(repeating: 0, count: count)
        child = .allocate(capacity: count)
        child.initialize(repeating: -1, count: count)
    }

    /// Frees the buffers (called by the owning scanner's deinit).
    func deallocate() {
        bytes.deallocate()
        length.deallocate()
        child.deallocate()
    }

    /// The bytes a matched key at (node, index) takes, both quotes included.
    @inline(__always) func quotedLength(node: Int, index: Int) -> Int {
        length[node * Self.positions + index] + 1
    }

    /// The child cached for the key whose opening quote is at `r.pos`, or `miss`.
    @inline(__always) func match(node: Int, index: Int, in r: JSONReader) -> Int {
        guard index < Self.positions else { return Self.miss }
        let e = node * Self.positions + index
        let n = length[e]
        let available = r.end - r.pos - 1
        guard n > 0, available >= n else { return Self.miss }
        let cached = UnsafeRawPointer(bytes + e * Self.width), input = UnsafeRawPointer(r.base + r.pos + 1)
        if n >= 8 {
            // Whole words, the last one overlapping the one before it.
            var i = 0
            while i + 8 < n {
                if cached.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    != input.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return Self.miss }
                i += 8
            }
            let same = cached.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                == input.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            return same ? child[e] : Self.miss
        }
        if available >= 8 {
            // One word, of which the key's low `n` bytes count (the cache is zero past the key).
            let mask: UInt64 = (1 << UInt64(n * 8)) &- 1
            let same = cached.loadUnaligned(as: UInt64.self) == input.loadUnaligned(as: UInt64.self) & mask
            return same ? child[e] : Self.miss
        }
        return FlatTrie.equal(bytes + e * Self.width, r.base + r.pos + 1, count: n) ? child[e] : Self.miss
    }

    /// Caches `key` (escape-free, without quotes) at (node, index).
    @inline(__always) func remember(node: Int, index: Int, key: UnsafeBufferPointer<UInt8>, child c: Int) {
        guard index < Self.positions, key.count < Self.width else { return }
        let e = node * Self.positions + index
        let p = bytes + e * Self.width
        if key.count > 0 { p.update(from: key.baseAddress!, count: key.count) }
        p[key.count] = 0x22
        (p + key.count + 1).update(repeating: 0, count: Self.width - key.count - 1)
        length[e] = key.count + 1
        child[e] = c
    }
}
