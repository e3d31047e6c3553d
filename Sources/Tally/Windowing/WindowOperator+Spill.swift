/// Reads back the parts a `WindowOperator` evicted. The state store implements it over RocksDB;
/// tests use one in memory. A read sees every part handed over by `drainChanges`, whether its
/// checkpoint is on disk yet or not.
public protocol SpillStore: AnyObject {
    /// The parts of slice `slice` in `spillOrder` of their group keys (one key's parts adjacent).
    func parts(slice: Int64) -> any SpillCursor
    /// The parts of group key `key` in slice `slice`.
    func forEachPart(slice: Int64, key: [UInt8], _ body: (UnsafeBufferPointer<Double>) -> Void)
}

/// A position in a slice's parts; `key` is nil past the last one. Both buffers are valid until `next()`.
public protocol SpillCursor: AnyObject {
    var key: UnsafeRawBufferPointer? { get }
    var values: UnsafeBufferPointer<Double> { get }
    func next()
}

/// The order of group keys among parts: shorter first, then bytewise (the order of the store's
/// keys, which hold the length before the bytes). Negative, zero or positive.
public func spillOrder(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    if a.count != b.count { return a.count < b.count ? -1 : 1 }
    for i in 0..<a.count where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
    return 0
}

/// Spilling: with a `memoryBudget`, a checkpoint that finds the state over it evicts
/// accumulators (those not updated since the previous checkpoint first) down to half the
/// budget. An evicted accumulator leaves memory as a *part* in the store, written in the same
/// batch as the checkpoint; an event for its key and slice later starts a new accumulator in
/// memory, so the hot path never reads the store. When a window is emitted or queried, its
/// slices' parts are combined with what is in memory. Parts of a slice go with the slice when
/// its last window closes.
extension WindowOperator {
    /// Bookkeeping bytes per accumulator besides its doubles: key id, slice, flags, table slot,
    /// slice list entry, array growth.
    static let bytesPerAccumulator = 64
    /// Bookkeeping bytes per key besides its bytes (held twice: array and arena).
    static let bytesPerKey = 120

    /// Estimated bytes of window state in memory.
    public var estimatedBytes: Int {
        accTable.count * (layout.stride * 8 + Self.bytesPerAccumulator)
            + keyTable.count * Self.bytesPerKey + 2 * (keyArena.count - keyGarbage)
    }

    /// Whether the state has outgrown `memoryBudget` (the engine then checkpoints early).
    public var isOverBudget: Bool {
        guard let budget = memoryBudget, spillStore != nil else { return false }
        return estimatedBytes > budget
    }

    /// Number of slices with parts in the store.
    public var spilledSliceCount: Int { spilledSlices.count }

    func hasSpilledSlice(from start: Int64, to end: Int64) -> Bool {
        var s = start
        while s < end {
            if spilledSlices.contains(s) { return true }
            s += slide
        }
        return false
    }

    /// Share of the budget the state comes down to when it spills: the rest is room to grow
    /// before the next eviction. Lower means fewer, larger evictions; each passes through the
    /// checkpoint's buffers and RocksDB's memtables at once, so it is also memory.
    static let evictionTarget = 0.75

    /// The accumulators to evict so that the state comes down to `evictionTarget` of the budget:
    /// those not updated since the last checkpoint first, oldest slices first, then the others.
    func chooseEvictions() -> [Int32] {
        guard let budget = memoryBudget, spillStore != nil, accTable.count > 0 else { return [] }
        let bytes = estimatedBytes
        guard bytes > budget else { return [] }
        let target = Double(budget) * Self.evictionTarget
        let wanted = min(accTable.count, Int(((Double(bytes) - target) / Double(bytes) * Double(accTable.count)).rounded(.up)))
        var chosen: [Int32] = []
        chosen.reserveCapacity(wanted)
        for coldOnly in [true, false] {
            for i in sliceHead..<sliceStarts.count {
                for a in slices[sliceStarts[i]] ?? [] where changed[Int(a)] != coldOnly {
                    if chosen.count == wanted { return chosen }
                    chosen.append(a)
                }
            }
        }
        return chosen
    }

    /// Evicts `chosen` (`leaving[a]` is true for each): each becomes a part (numbered
    /// `spillSequence`) through `spill`, and its stored accumulator, if any, is deleted through `delete`.
    func evict(
        _ chosen: [Int32], leaving: [Bool],
        spill: (_ key: [UInt8], _ slice: Int64, _ part: Int64, _ values: UnsafeBufferPointer<Double>) -> Void,
        delete: (_ key: [UInt8], _ slice: Int64) -> Void
    ) {
        guard !chosen.isEmpty else { return }
        var touched: Set<Int64> = []
        let stride = layout.stride
        accValues.withUnsafeBufferPointer { buf in
            for a in chosen {
                let key = key(accKey[Int(a)]), slice = accSlice[Int(a)]
                spill(key, slice, spillSequence, UnsafeBufferPointer(rebasing: buf[(Int(a) * stride)..<(Int(a) * stride + stride)]))
                if persisted[Int(a)] { delete(key, slice) }
                touched.insert(slice)
                spilledSlices.insert(slice)
            }
        }
        for s in touched { slices[s]?.removeAll { leaving[Int($0)] } }  // an emptied slice stays: its parts are in the store
        for a in chosen { release(a) }
        compactKeyArena()
        spillSequence += 1
        evictedTotal += chosen.count
    }

    /// Puts back what a checkpoint knew of the spill: the slices with parts, the next part number.
    public func restore(spilledSlices stored: [Int64], spillSequence next: Int64) {
        for s in stored where closedThrough.map({ s > $0 }) ?? true {  // a slice goes when the window starting at it closes
            if slices[s] == nil {
                insertSliceStart(s)
                slices[s] = []
            }
            spilledSlices.insert(s)
        }
        spillSequence = next
    }

    /// `emitWindow` for a window with spilled slices. Its keys come in two passes: those with
    /// parts, merged in key order from every slice's cursor (with what memory holds of them);
    /// then the keys only in memory. Results are handed to `onResults` every `resultChunk`, so a window of millions of spilled keys is never whole in memory.
    func emitWindowWithSpill(start: Int64, isFinal: Bool, onlyKeys: Set<Int32>?) {
        let end = start + size, stride = layout.stride
        if combineRow.count < keyOffset.count {
            combineRow.append(contentsOf: repeatElement(-1, count: keyOffset.count - combineRow.count))
        }
        var windowSlices: [Int64] = []
        var s = start
        while s < end {
            windowSlices.append(s)
            s += slide
        }
        // Pass 1: keys with parts. `combineRow[k] == -2` marks a key in memory emitted here.
        var emitted: [Int32] = []
        if let store = spillStore {
            var acc = [Double](repeating: 0, count: stride)
            func addResident(_ k: Int32) {
                for s in windowSlices where slices[s] != nil {
                    if let a = findAccumulator(key: k, slice: s, hash: FastHash.hash(k, s, seed: hashSeed)) {
                        accValues.withUnsafeBufferPointer { buf in
                            acc.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress!, buf.baseAddress! + Int(a) * stride) }
                        }
                    }
                }
            }
            if let only = onlyKeys {
                for k in only {
                    var found = false
                    acc.withUnsafeMutableBufferPointer { layout.initialize($0.baseAddress!) }
                    for s in windowSlices where spilledSlices.contains(s) {
                        store.forEachPart(slice: s, key: key(k)) { part in
                            found = true
                            acc.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress!, part.baseAddress!) }
                        }
                    }
                    guard found else { continue }
                    addResident(k)
                    combineRow[Int(k)] = -2
                    emitted.append(k)
                    results.append(WindowResult(
                        key: key(k), start: start, end: end, isFinal: isFinal,
                        values: acc.withUnsafeBufferPointer { layout.values($0.baseAddress!) }))
                }
            } else {
                let cursors = windowSlices.filter { spilledSlices.contains($0) }.map { store.parts(slice: $0) }
                while true {
                    var smallest: UnsafeRawBufferPointer? = nil
                    for c in cursors {
                        if let k = c.key, smallest.map({ spillOrder(k, $0) < 0 }) ?? true { smallest = k }
                    }
                    guard let first = smallest else { break }
                    let key = Array(first)  // the cursors move on below
                    acc.withUnsafeMutableBufferPointer { layout.initialize($0.baseAddress!) }
                    key.withUnsafeBytes { kb in
                        for c in cursors {
                            while let k = c.key, spillOrder(k, kb) == 0 {
                                acc.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress!, c.values.baseAddress!) }
                                c.next()
                            }
                        }
                    }
                    if let k = findKey(key, hash: key.withUnsafeBytes { FastHash.hash($0, seed: hashSeed) }) {
                        addResident(k)
                        combineRow[Int(k)] = -2
                        emitted.append(k)
                    }
                    results.append(WindowResult(
                        key: key, start: start, end: end, isFinal: isFinal,
                        values: acc.withUnsafeBufferPointer { layout.values($0.baseAddress!) }))
                    if results.count >= resultChunk { onResults?() }
                }
            }
        }
        // Pass 2: keys only in memory, combined across the window's slices.
        var rows = CombinedRows(layout: layout)
        var rowKeys: [Int32] = []
        for s in windowSlices {
            guard let accs = slices[s] else { continue }
            accValues.withUnsafeBufferPointer { buf in
                for a in accs {
                    let k = accKey[Int(a)]
                    if let only = onlyKeys, !only.contains(k) { continue }
                    let r = combineRow[Int(k)]
                    if r == -2 { continue }
                    if r >= 0 {
                        rows.combine(Int(r), buf.baseAddress! + Int(a) * stride)
                    } else {
                        combineRow[Int(k)] = Int32(rows.append(key(k), buf.baseAddress! + Int(a) * stride))
                        rowKeys.append(k)
                    }
                }
            }
        }
        for k in rowKeys { combineRow[Int(k)] = -1 }
        for k in emitted { combineRow[Int(k)] = -1 }
        rows.values.withUnsafeBufferPointer { buf in
            for (i, key) in rows.keys.enumerated() {
                results.append(WindowResult(
                    key: key, start: start, end: end, isFinal: isFinal, values: layout.values(buf.baseAddress! + i * stride)))
                if onlyKeys == nil && results.count >= resultChunk { onResults?() }
            }
        }
    }

    /// `openWindows` when some slices have parts in the store.
    func openWindowsWithSpill(key: [UInt8], from: Int64?, to: Int64?) -> [WindowResult] {
        let k = findKey(key, hash: key.withUnsafeBytes { FastHash.hash($0, seed: hashSeed) })
        var perSlice: [Int64: [Double]] = [:]
        for i in sliceHead..<sliceStarts.count {
            let s = sliceStarts[i]
            var acc: [Double]? = nil
            if let k, let a = findAccumulator(key: k, slice: s, hash: FastHash.hash(k, s, seed: hashSeed)) {
                acc = Array(accValues[(Int(a) * layout.stride)..<(Int(a) * layout.stride + layout.stride)])
            }
            if spilledSlices.contains(s) {
                spillStore?.forEachPart(slice: s, key: key) { part in
                    if acc == nil { acc = Array(part) } else { acc!.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress!, part.baseAddress!) } }
                }
            }
            if let acc { perSlice[s] = acc }
        }
        var starts: Set<Int64> = []
        for s in perSlice.keys { for w in openWindowStarts(containingSlice: s) { starts.insert(w) } }
        var out: [WindowResult] = []
        for w in starts.sorted() where (from.map { w >= $0 } ?? true) && (to.map { w <= $0 } ?? true) {
            var total = [Double](repeating: 0, count: layout.stride)
            total.withUnsafeMutableBufferPointer { layout.initialize($0.baseAddress!) }
            var s = w
            while s < w + size {
                if let p = perSlice[s] { total.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress!, p) } }
                s += slide
            }
            out.append(WindowResult(key: key, start: w, end: w + size, isFinal: false, values: total.withUnsafeBufferPointer { layout.values($0.baseAddress!) }))
        }
        return out
    }
}

/// Accumulators combined per key while a window with spilled parts is read.
struct CombinedRows {
    let layout: AggregateLayout
    var values: [Double] = []
    var keys: [[UInt8]] = []

    init(layout: AggregateLayout) { self.layout = layout }

    /// A new row holding a copy of `src`; returns its number.
    mutating func append(_ key: [UInt8], _ src: UnsafePointer<Double>) -> Int {
        keys.append(key)
        values.append(contentsOf: UnsafeBufferPointer(start: src, count: layout.stride))
        return keys.count - 1
    }

    mutating func combine(_ row: Int, _ src: UnsafePointer<Double>) {
        let stride = layout.stride
        values.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress! + row * stride, src) }
    }
}
