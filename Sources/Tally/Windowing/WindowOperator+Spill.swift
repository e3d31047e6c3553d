/// Reads back the parts a `WindowOperator` evicted. The state store implements it over RocksDB;
/// tests use one in memory. A read sees every part handed over by `drainChanges`, whether its
/// checkpoint is on disk yet or not.
public protocol SpillStore: AnyObject {
    /// Every part of slice `slice`: its group key's bytes and its accumulator.
    func forEachPart(slice: Int64, _ body: (UnsafeRawBufferPointer, UnsafeBufferPointer<Double>) -> Void)
    /// The parts of group key `key` in slice `slice`.
    func forEachPart(slice: Int64, key: [UInt8], _ body: (UnsafeBufferPointer<Double>) -> Void)
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

    /// The accumulators to evict so that the state comes down to half the budget: those not
    /// updated since the last checkpoint first, oldest slices first, then the others.
    func chooseEvictions() -> [Int32] {
        guard let budget = memoryBudget, spillStore != nil, accTable.count > 0 else { return [] }
        let bytes = estimatedBytes
        guard bytes > budget else { return [] }
        let wanted = min(accTable.count, Int((Double(bytes - budget / 2) / Double(bytes) * Double(accTable.count)).rounded(.up)))
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
                let key = keys[Int(accKey[Int(a)])], slice = accSlice[Int(a)]
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

    /// `emitWindow` for a window with spilled slices: memory and parts are combined per key.
    func emitWindowWithSpill(start: Int64, isFinal: Bool, onlyKeys: Set<Int32>?) {
        let end = start + size, stride = layout.stride
        if combineRow.count < keys.count {
            combineRow.append(contentsOf: repeatElement(-1, count: keys.count - combineRow.count))
        }
        var rows = CombinedRows(layout: layout)
        var residentKeys: [Int32] = []
        func add(resident k: Int32, _ src: UnsafePointer<Double>) {
            let r = combineRow[Int(k)]
            if r >= 0 {
                rows.combine(Int(r), src)
            } else {
                combineRow[Int(k)] = Int32(rows.append(keys[Int(k)], src))
                residentKeys.append(k)
            }
        }
        var s = start
        while s < end {
            if let accs = slices[s] {
                accValues.withUnsafeBufferPointer { buf in
                    for a in accs {
                        let k = accKey[Int(a)]
                        if let only = onlyKeys, !only.contains(k) { continue }
                        add(resident: k, buf.baseAddress! + Int(a) * stride)
                    }
                }
            }
            if spilledSlices.contains(s), let store = spillStore {
                if let only = onlyKeys {
                    for k in only { store.forEachPart(slice: s, key: keys[Int(k)]) { add(resident: k, $0.baseAddress!) } }
                } else {
                    store.forEachPart(slice: s) { key, values in
                        if let k = findKey(key, hash: FastHash.hash(key, seed: hashSeed)) {
                            add(resident: k, values.baseAddress!)
                        } else {
                            rows.add(key, values.baseAddress!)
                        }
                    }
                }
            }
            s += slide
        }
        for k in residentKeys { combineRow[Int(k)] = -1 }
        rows.values.withUnsafeBufferPointer { buf in
            for (i, key) in rows.keys.enumerated() {
                results.append(WindowResult(
                    key: key, start: start, end: end, isFinal: isFinal, values: layout.values(buf.baseAddress! + i * stride)))
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
            var rows = CombinedRows(layout: layout)
            var s = w
            while s < w + size {
                if let p = perSlice[s] { p.withUnsafeBufferPointer { rows.add(key, $0.baseAddress!) } }
                s += slide
            }
            rows.values.withUnsafeBufferPointer { buf in
                out.append(WindowResult(key: key, start: w, end: w + size, isFinal: false, values: layout.values(buf.baseAddress!)))
            }
        }
        return out
    }
}

/// Accumulators combined per key while a window with spilled parts is read.
struct CombinedRows {
    let layout: AggregateLayout
    var values: [Double] = []
    var keys: [[UInt8]] = []
    /// Rows of keys that are not in memory, by their bytes.
    var byBytes: [[UInt8]: Int] = [:]

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

    /// Folds `src` into the row of `key`, found by its bytes.
    mutating func add(_ key: UnsafeRawBufferPointer, _ src: UnsafePointer<Double>) {
        add(Array(key), src)
    }

    mutating func add(_ key: [UInt8], _ src: UnsafePointer<Double>) {
        if let r = byBytes[key] {
            combine(r, src)
        } else {
            byBytes[key] = append(key, src)
        }
    }
}
