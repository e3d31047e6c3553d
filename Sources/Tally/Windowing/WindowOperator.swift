/// The window operator of one definition: `where` → group key → event time → slice →
/// aggregate update, and window closing when the watermark passes `end + grace`. Pure Swift,
/// no I/O: the offline runner and the live engine drive the same code.
///
/// State is kept as slices of width `slide` (the gcd of size and slide, since size is a multiple
/// of slide): an event updates exactly one slice accumulator, and a window's value is the
/// combination of its `size / slide` slices. Closed windows come out in `results`, which the
/// caller drains.
public final class WindowOperator {
    /// The definition this operator runs.
    public let definition: Definition
    /// Its aggregate layout.
    public let layout: AggregateLayout
    let size: Int64, slide: Int64, grace: Int64
    let filters: [BoundPredicate]
    let groupSlots: [Int]
    let timeField: TimeField
    /// `definition.emit == .update`, read per event without touching the definition.
    public let isUpdateMode: Bool

    // Group keys, interned: key bytes ↔ index, with the number of live slices using each. A key
    // whose last accumulator is freed stays interned (idle, refs 0) for its next window, unless
    // the state has a memory budget. Once idle keys outnumber the live ones, a sweep forgets
    // those that were already idle at the sweep before (so not the keys of the window that just
    // closed, most of which come back with the next one). Keys in `freeKeys` have refs -1.
    let hashSeed = FastHash.processSeed
    var keyTable = ProbeTable()
    var keyHashes: [UInt64] = []
    /// Key bytes side by side (`keyOffset`, `keyLength` per key id): a lookup compares without
    /// chasing a pointer, and a new key costs no allocation of its own.
    var keyArena: [UInt8] = []
    var keyOffset: [Int32] = []
    var keyLength: [Int32] = []
    var keyGarbage = 0
    var keyRefs: [Int32] = []
    /// Per key, the slice and accumulator of its latest counted event (slice `.min`: none).
    var keyLast: [(slice: Int64, acc: Int32)] = []
    var freeKeys: [Int32] = []
    var idleKeys = 0
    /// Per key, the sweep generation in which it last became idle.
    var keyIdleSince: [Int32] = []
    var sweepGeneration: Int32 = 0
    var keyScratch = KeyBuilder()
    /// Where `restore` folds the slots it touched, so that those reads are kept.
    var touchSink: UInt64 = 0
    /// Per key id, its row while a sliding window's slices are combined (-1 otherwise).
    var combineRow: [Int32] = []

    // Slice accumulators in flat arrays; `index` finds the one of (key, slice start).
    var accValues: [Double] = []
    var accKey: [Int32] = []
    var accSlice: [Int64] = []
    var freeAccs: [Int32] = []
    var accTable = ProbeTable()
    /// Accumulators of each live slice start, and those starts in ascending order from `sliceHead`.
    var slices: [Int64: [Int32]] = [:]
    var sliceStarts: [Int64] = []
    var sliceHead = 0

    // Update mode: accumulators changed since the last `flushUpdates()`.
    var dirty: [Bool] = []
    var dirtyList: [Int32] = []
    // Checkpoints: accumulators changed, and slices freed, since the last checkpoint.
    var changed: [Bool] = []
    var changedList: [Int32] = []
    /// Whether an accumulator is in the store (so freeing it needs a delete there).
    var persisted: [Bool] = []
    var freedSinceCheckpoint: [(key: [UInt8], slice: Int64)] = []

    // Spill (see WindowOperator+Spill.swift): accumulators evicted at checkpoints live on in the
    // store as parts, combined with what is in memory when their windows are read.
    /// Bytes of state this operator may keep in memory (nil: no limit, nothing spills).
    public var memoryBudget: Int?
    /// Where evicted parts are read back; required with a budget.
    public var spillStore: (any SpillStore)?
    /// Slices with parts in the store, and those freed since the last checkpoint.
    var spilledSlices: Set<Int64> = []
    var freedSpilledSlices: [Int64] = []
    /// Number of the next eviction round: part ids, unique per (key, slice).
    public internal(set) var spillSequence: Int64 = 0
    /// Accumulators evicted since start (a counter for metrics and tests).
    public internal(set) var evictedTotal = 0
    /// Called while a window is emitted, each time `results` holds `resultChunk` of them: the
    /// caller takes them, so that memory holds one chunk at a time however many keys a window has.
    public var onResults: (() -> Void)?
    public var resultChunk = 4096

    /// The watermark of this operator's partitions (a shard's own: it moves with the shard, so
    /// an instance that takes a shard over never closes its windows at the instance's pace).
    public var watermarks = WatermarkTracker()
    /// Start of the last window that has closed (every window starting at or before it is closed).
    public internal(set) var closedThrough: Int64?
    var nextCloseAt: Int64 = .min
    /// Emitted results not yet taken by the caller (who empties the batch with `removeAll()`).
    public var results: ResultBatch

    /// An operator for `definition`, registering the fields it reads in `plan`.
    public init(_ definition: Definition, plan: inout FieldPlan) {
        self.definition = definition
        size = definition.window.size
        slide = definition.window.slide
        grace = definition.window.grace
        filters = definition.filters.map { BoundPredicate($0, plan: &plan) }
        groupSlots = definition.groupBy.map { plan.slot(for: $0) }
        timeField = TimeField(definition.time, plan: &plan)
        isUpdateMode = definition.emit == .update
        layout = AggregateLayout(definition.aggregates, plan: &plan)
        results = ResultBatch(width: definition.aggregates.count)
    }

    deinit { keyScratch.deallocate() }

    /// Whether events take the Kafka record's timestamp (the definition has no `time`).
    public var usesRecordTime: Bool { timeField.usesRecordTime }

    /// Number of (key, slice) accumulators alive.
    public var liveAccumulators: Int { accTable.count }
    /// Current watermark.
    public var watermark: Int64? { watermarks.current }

    // MARK: processing

    /// Processes one scanned event from `partition`. `recordTime` is the Kafka timestamp, used
    /// when the definition has no `time`; `now` is wall-clock ms, for idle partitions.
    @inline(__always)
    public func process(_ view: EventView, partition: Int32 = 0, recordTime: Int64? = nil, now: Int64 = 0) -> EventOutcome {
        // 1. Event time; every valid time moves the watermark, whatever happens to the event.
        let (time, timeProblem) = timeField.time(of: view, recordTime: recordTime)
        if let time {
            if let w = watermarks.observe(partition, time: time, now: now), w >= nextCloseAt { advance(to: w) }
        } else {
            watermarks.touch(partition, now: now)
        }
        // 2. where
        for f in filters where !f.holds(view) { return .filtered }
        // 3. What a counted event needs: a time, a group key, numbers where numbers are read.
        guard let time else { return .rejected(timeProblem) }
        keyScratch.reset()
        if let problem = GroupKey.encode(view, slots: groupSlots, into: &keyScratch) { return .rejected(problem) }
        if layout.hasNonNumeric(view) { return .rejected(.nonNumericValue) }
        // 4. Late when even its last window has closed.
        let sliceStart = WindowMath.floorMultiple(time, slide)
        if let c = closedThrough, sliceStart <= c { return .late }
        // 5. One slice update.
        let key = internKey()
        // Most events of a key fall in the slice its previous event did: that accumulator is
        // remembered per key, which spares a probe of the accumulator table.
        let acc: Int32
        let last = keyLast[Int(key)]
        if last.slice == sliceStart {
            acc = last.acc
        } else {
            acc = accumulator(key: key, slice: sliceStart)
            keyLast[Int(key)] = (sliceStart, acc)
        }
        accValues.withUnsafeMutableBufferPointer { buf in
            layout.update(buf.baseAddress! + Int(acc) * layout.stride, view)
        }
        if isUpdateMode && !dirty[Int(acc)] {
            dirty[Int(acc)] = true
            dirtyList.append(acc)
        }
        if !changed[Int(acc)] {
            changed[Int(acc)] = true
            changedList.append(acc)
        }
        return .counted
    }

    /// Rejects an event that could not be scanned (not JSON, not an object), noting the activity.
    public func reject(partition: Int32 = 0, now: Int64 = 0) {
        watermarks.touch(partition, now: now)
    }

    @inline(__always) func internKey() -> Int32 {
        let b = keyScratch.bytes
        return internKey(b, hash: FastHash.hash(b, seed: hashSeed))
    }

    /// The id of key `b` (hashed to `h`), added when new.
    @inline(__always) func internKey(_ b: UnsafeRawBufferPointer, hash h: UInt64) -> Int32 {
        if let k = findKey(b, hash: h) { return k }
        let k: Int32
        if let free = freeKeys.popLast() {
            k = free
            keyRefs[Int(k)] = 0
            keyIdleSince[Int(k)] = sweepGeneration
            keyLast[Int(k)] = (.min, -1)
            keyHashes[Int(k)] = h
            keyOffset[Int(k)] = Int32(keyArena.count)
            keyLength[Int(k)] = Int32(b.count)
        } else {
            k = Int32(keyOffset.count)
            keyRefs.append(0)
            keyIdleSince.append(sweepGeneration)
            keyLast.append((.min, -1))
            keyHashes.append(h)
            keyOffset.append(Int32(keyArena.count))
            keyLength.append(Int32(b.count))
        }
        keyArena.append(contentsOf: b)
        keyTable.insert(k, hash: h)
        idleKeys += 1  // until its first accumulator
        return k
    }

    /// The bytes of key `k`.
    func key(_ k: Int32) -> [UInt8] { Array(keyBytes(k)) }

    /// The bytes of key `k`, in place in the arena.
    @inline(__always) func keyBytes(_ k: Int32) -> ArraySlice<UInt8> {
        let o = Int(keyOffset[Int(k)])
        return keyArena[o..<(o + Int(keyLength[Int(k)]))]
    }

    @inline(__always) func findKey(_ bytes: [UInt8], hash h: UInt64) -> Int32? {
        bytes.withUnsafeBytes { findKey($0, hash: h) }
    }

    @inline(__always) func findKey(_ b: UnsafeRawBufferPointer, hash h: UInt64) -> Int32? {
        keyArena.withUnsafeBufferPointer { arena in
            keyTable.find(h) { k in
                guard Int(keyLength[Int(k)]) == b.count else { return false }
                guard b.count > 0 else { return true }
                return FlatTrie.equal(
                    arena.baseAddress! + Int(keyOffset[Int(k)]), b.baseAddress!.assumingMemoryBound(to: UInt8.self), count: b.count)
            }
        }
    }

    /// Rewrites the arena with live keys only, once freed keys take more than half of it.
    func compactKeyArena() {
        guard keyGarbage > 65536 && keyGarbage * 2 > keyArena.count else { return }
        var fresh: [UInt8] = []
        fresh.reserveCapacity(keyArena.count - keyGarbage)
        for k in keyOffset.indices where keyRefs[k] >= 0 {
            let bytes = keyBytes(Int32(k))
            keyOffset[k] = Int32(fresh.count)
            fresh += bytes
        }
        keyArena = fresh
        keyGarbage = 0
    }

    @inline(__always) func accumulator(key: Int32, slice: Int64) -> Int32 {
        accumulator(key: key, slice: slice, hash: FastHash.hash(key, slice, seed: hashSeed))
    }

    @inline(__always) func accumulator(key: Int32, slice: Int64, hash h: UInt64) -> Int32 {
        if let a = findAccumulator(key: key, slice: slice, hash: h) { return a }
        let a: Int32
        if let free = freeAccs.popLast() {
            a = free
            accKey[Int(a)] = key
            accSlice[Int(a)] = slice
        } else {
            a = Int32(accKey.count)
            accKey.append(key)
            accSlice.append(slice)
            dirty.append(false)
            changed.append(false)
            persisted.append(false)
            accValues.append(contentsOf: repeatElement(0, count: layout.stride))
        }
        accValues.withUnsafeMutableBufferPointer { layout.initialize($0.baseAddress! + Int(a) * layout.stride) }
        accTable.insert(a, hash: h)
        if keyRefs[Int(key)] == 0 { idleKeys -= 1 }
        keyRefs[Int(key)] += 1
        slices[slice, default: newSlice(slice)].append(a)
        return a
    }

    @inline(__always) func findAccumulator(key: Int32, slice: Int64, hash h: UInt64) -> Int32? {
        accTable.find(h) { accKey[Int($0)] == key && accSlice[Int($0)] == slice }
    }

    /// The accumulator list of a slice that has none yet, its start put in order.
    func newSlice(_ s: Int64) -> [Int32] {
        insertSliceStart(s)
        return []
    }

    func insertSliceStart(_ s: Int64) {
        if sliceStarts.count == sliceHead || sliceStarts[sliceStarts.count - 1] < s {
            sliceStarts.append(s)
            return
        }
        var lo = sliceHead, hi = sliceStarts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sliceStarts[mid] < s { lo = mid + 1 } else { hi = mid }
        }
        sliceStarts.insert(s, at: lo)
    }

    // MARK: closing

    /// Moves the watermark to `w` (from the tracker) and closes every window with `end + grace <= w`.
    public func advance(to w: Int64) {
        let target = WindowMath.floorMultiple(w - grace - size, slide)
        if let c = closedThrough, target <= c { return }
        close(through: target)
    }

    /// Re-reads the watermark after partitions were assigned, revoked or went idle.
    public func refreshWatermark(now: Int64, idleTimeout: Int64?) {
        let w = idleTimeout.map { watermarks.expireIdle(now: now, timeout: $0) } ?? watermarks.current
        if let w, w >= nextCloseAt { advance(to: w) }
    }

    /// Closes and emits every window that still holds data (end of input).
    public func closeAll() {
        guard sliceHead < sliceStarts.count else { return }
        let last = WindowMath.floorMultiple(sliceStarts[sliceStarts.count - 1], slide)
        close(through: max(last, closedThrough ?? last))
    }

    /// Emits the windows with data whose start is in (closedThrough, target], then frees their slices.
    func close(through target: Int64) {
        var done = closedThrough
        while sliceHead < sliceStarts.count {
            let first = sliceStarts[sliceHead]
            var s = WindowMath.floorMultiple(first - size, slide) + slide
            if let d = done, s <= d { s = d + slide }
            if s > target { break }
            emitWindow(start: s, isFinal: true)
            if results.count >= resultChunk { onResults?() }
            done = s
            freeSlices(through: s)
        }
        closedThrough = target
        nextCloseAt = target + slide + size + grace
    }

    /// Frees slices whose last window starts at or before `windowStart`.
    func freeSlices(through windowStart: Int64) {
        while sliceHead < sliceStarts.count, WindowMath.floorMultiple(sliceStarts[sliceHead], slide) <= windowStart {
            let s = sliceStarts[sliceHead]
            sliceHead += 1
            for a in slices.removeValue(forKey: s) ?? [] {
                if persisted[Int(a)] { freedSinceCheckpoint.append((key(accKey[Int(a)]), s)) }
                release(a)
            }
            if spilledSlices.remove(s) != nil { freedSpilledSlices.append(s) }
        }
        if idleKeys > 4096 && idleKeys * 2 > keyTable.count { sweepIdleKeys() }
        compactKeyArena()
        if sliceHead > 1024 && sliceHead * 2 > sliceStarts.count {
            sliceStarts.removeFirst(sliceHead)
            sliceHead = 0
        }
    }

    /// Frees accumulator `a` (its slice's list is the caller's to update), and its key when no
    /// other accumulator uses it.
    func release(_ a: Int32) {
        let k = accKey[Int(a)]
        accTable.remove(a, hash: FastHash.hash(k, accSlice[Int(a)], seed: hashSeed))
        if keyLast[Int(k)].acc == a { keyLast[Int(k)] = (.min, -1) }
        dirty[Int(a)] = false
        changed[Int(a)] = false
        persisted[Int(a)] = false
        freeAccs.append(a)
        keyRefs[Int(k)] -= 1
        if keyRefs[Int(k)] == 0 {
            idleKeys += 1
            keyIdleSince[Int(k)] = sweepGeneration
            if memoryBudget != nil { forgetKey(k) }
        }
    }

    /// Takes idle key `k` out of the key table, its id free for another key.
    func forgetKey(_ k: Int32) {
        keyTable.remove(k, hash: keyHashes[Int(k)])
        keyGarbage += Int(keyLength[Int(k)])
        keyRefs[Int(k)] = -1
        idleKeys -= 1
        freeKeys.append(k)
    }

    /// Forgets the keys idle since before the last sweep.
    func sweepIdleKeys() {
        for k in keyRefs.indices where keyRefs[k] == 0 && keyIdleSince[k] < sweepGeneration { forgetKey(Int32(k)) }
        sweepGeneration &+= 1
    }

    /// Appends the results of window `[start, start + size)` for every key with data in it.
    func emitWindow(start: Int64, isFinal: Bool, onlyKeys: Set<Int32>? = nil) {
        let end = start + size
        if !spilledSlices.isEmpty && hasSpilledSlice(from: start, to: end) {
            emitWindowWithSpill(start: start, isFinal: isFinal, onlyKeys: onlyKeys)
            return
        }
        if size == slide {
            guard let accs = slices[start] else { return }
            accValues.withUnsafeBufferPointer { buf in
                for a in accs where onlyKeys?.contains(accKey[Int(a)]) ?? true {
                    results.append(key: keyBytes(accKey[Int(a)]), start: start, end: end, isFinal: isFinal,
                                   acc: buf.baseAddress! + Int(a) * layout.stride, layout: layout)
                    if onlyKeys == nil && results.count >= resultChunk { onResults?() }
                }
            }
            return
        }
        // Slices are combined per key into rows of `combined`; `combineRow` maps a key id to its
        // row (-1: none yet) and is reset after the window, so no hashing per accumulator.
        if combineRow.count < keyOffset.count {
            combineRow.append(contentsOf: repeatElement(-1, count: keyOffset.count - combineRow.count))
        }
        var order: [Int32] = []
        var combined: [Double] = []
        let stride = layout.stride
        accValues.withUnsafeBufferPointer { buf in
            combineRow.withUnsafeMutableBufferPointer { row in
                var s = start
                while s < end {
                    if let accs = slices[s] {
                        for a in accs {
                            let k = accKey[Int(a)]
                            if let only = onlyKeys, !only.contains(k) { continue }
                            let src = buf.baseAddress! + Int(a) * stride
                            let r = Int(row[Int(k)])
                            if r >= 0 {
                                combined.withUnsafeMutableBufferPointer { layout.combine($0.baseAddress! + r * stride, src) }
                            } else {
                                row[Int(k)] = Int32(order.count)
                                order.append(k)
                                combined.append(contentsOf: UnsafeBufferPointer(start: src, count: stride))
                            }
                        }
                    }
                    s += slide
                }
                for k in order { row[Int(k)] = -1 }
            }
        }
        combined.withUnsafeBufferPointer { buf in
            for (i, k) in order.enumerated() {
                results.append(key: keyBytes(k), start: start, end: end, isFinal: isFinal,
                               acc: buf.baseAddress! + i * stride, layout: layout)
                if onlyKeys == nil && results.count >= resultChunk { onResults?() }
            }
        }
    }

    // MARK: update mode and queries

    /// Emits a non-final result for every open window whose values changed since the last call
    /// (update mode), at most one per window.
    public func flushUpdates() {
        guard !dirtyList.isEmpty else { return }
        var byWindow: [Int64: Set<Int32>] = [:]
        for a in dirtyList where dirty[Int(a)] {
            dirty[Int(a)] = false
            for s in openWindowStarts(containingSlice: accSlice[Int(a)]) {
                byWindow[s, default: []].insert(accKey[Int(a)])
            }
        }
        dirtyList.removeAll(keepingCapacity: true)
        for s in byWindow.keys.sorted() { emitWindow(start: s, isFinal: false, onlyKeys: byWindow[s]) }
    }

    func openWindowStarts(containingSlice a: Int64) -> StrideThrough<Int64> {
        var first = WindowMath.floorMultiple(a - size, slide) + slide
        if let c = closedThrough, first <= c { first = c + slide }
        return stride(from: first, through: a, by: Int64.Stride(slide))
    }

    /// Current (open) windows of one group key, by start, with their values so far.
    public func openWindows(key: [UInt8], from: Int64? = nil, to: Int64? = nil) -> [WindowResult] {
        if !spilledSlices.isEmpty { return openWindowsWithSpill(key: key, from: from, to: to) }
        guard let k = findKey(key, hash: key.withUnsafeBytes { FastHash.hash($0, seed: hashSeed) }) else { return [] }
        var starts: Set<Int64> = []
        for i in sliceHead..<sliceStarts.count
        where findAccumulator(key: k, slice: sliceStarts[i], hash: FastHash.hash(k, sliceStarts[i], seed: hashSeed)) != nil {
            for s in openWindowStarts(containingSlice: sliceStarts[i]) { starts.insert(s) }
        }
        let saved = results
        results = ResultBatch(width: results.width)
        for s in starts.sorted() where (from.map { s >= $0 } ?? true) && (to.map { s <= $0 } ?? true) {
            emitWindow(start: s, isFinal: false, onlyKeys: [k])
        }
        let out = Array(results)
        results = saved
        return out
    }
}
