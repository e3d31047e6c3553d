extension WindowOperator {
    /// Hands over what changed since the last call: every accumulator updated (its key, slice
    /// start and values) and every stored slice accumulator freed because its windows all closed.
    /// A slice created and freed between two checkpoints never reaches the store. Over the
    /// memory budget, it also evicts accumulators (see WindowOperator+Spill.swift): each goes out
    /// through `spill` as part number `part` (its stored accumulator deleted), and `dropSpilled`
    /// names the slices whose parts can go because their windows all closed.
    public func drainChanges(
        put: (_ key: [UInt8], _ slice: Int64, _ values: UnsafeBufferPointer<Double>) -> Void,
        delete: (_ key: [UInt8], _ slice: Int64) -> Void,
        spill: (_ key: [UInt8], _ slice: Int64, _ part: Int64, _ values: UnsafeBufferPointer<Double>) -> Void,
        dropSpilled: (_ slice: Int64) -> Void
    ) {
        for f in freedSinceCheckpoint { delete(f.key, f.slice) }
        freedSinceCheckpoint.removeAll(keepingCapacity: true)
        for s in freedSpilledSlices { dropSpilled(s) }
        freedSpilledSlices.removeAll(keepingCapacity: true)
        let chosen = chooseEvictions()
        var leaving = [Bool](repeating: false, count: chosen.isEmpty ? 0 : accKey.count)
        for a in chosen { leaving[Int(a)] = true }
        let stride = layout.stride
        accValues.withUnsafeBufferPointer { buf in
            for a in changedList where changed[Int(a)] && (chosen.isEmpty || !leaving[Int(a)]) {
                changed[Int(a)] = false
                persisted[Int(a)] = true
                put(key(accKey[Int(a)]), accSlice[Int(a)],
                    UnsafeBufferPointer(rebasing: buf[(Int(a) * stride)..<(Int(a) * stride + stride)]))
            }
        }
        changedList.removeAll(keepingCapacity: true)
        evict(chosen, leaving: leaving, spill: spill, delete: delete)
    }

    /// One slice accumulator read from a checkpoint: its group key, slice start and values
    /// (`layout.stride` little-endian doubles), in the reader's buffer.
    public struct StoredSlice {
        public var key: UnsafeRawBufferPointer
        public var slice: Int64
        public var values: UnsafeRawBufferPointer

        public init(key: UnsafeRawBufferPointer, slice: Int64, values: UnsafeRawBufferPointer) {
            self.key = key
            self.slice = slice
            self.values = values
        }
    }

    /// Puts back slice accumulators read from a checkpoint. With a million of them, every probe
    /// of the key and accumulator tables misses the cache: each group of `restoreGroup` first
    /// touches the slots it will probe, so that those reads overlap, then inserts.
    public func restore(_ stored: UnsafeBufferPointer<StoredSlice>) {
        let stride = layout.stride
        var hashes = [UInt64](repeating: 0, count: Self.restoreGroup)
        var keys = [Int32](repeating: 0, count: Self.restoreGroup)
        var sink: UInt64 = 0
        var first = 0
        while first < stored.count {
            let n = min(Self.restoreGroup, stored.count - first)
            let group = UnsafeBufferPointer(rebasing: stored[first..<(first + n)])
            keyTable.reserve(keyTable.count + n)
            for (i, s) in group.enumerated() {
                hashes[i] = FastHash.hash(s.key, seed: hashSeed)
                sink &+= keyTable.touch(hashes[i])
            }
            for (i, s) in group.enumerated() { keys[i] = internKey(s.key, hash: hashes[i]) }
            accTable.reserve(accTable.count + n)
            for (i, s) in group.enumerated() {
                hashes[i] = FastHash.hash(keys[i], s.slice, seed: hashSeed)
                sink &+= accTable.touch(hashes[i])
            }
            for (i, s) in group.enumerated() {
                precondition(s.values.count == stride * 8, "accumulator size differs from the layout")
                let a = accumulator(key: keys[i], slice: s.slice, hash: hashes[i])
                persisted[Int(a)] = true
                accValues.withUnsafeMutableBufferPointer { buf in
                    for j in 0..<stride {
                        buf[Int(a) * stride + j] = Double(bitPattern: UInt64(littleEndian:
                            s.values.loadUnaligned(fromByteOffset: j * 8, as: UInt64.self)))
                    }
                }
            }
            first += n
        }
        touchSink &+= sink
    }

    static let restoreGroup = 32

    /// What `reserve` needs to know: accumulators, keys and key bytes in memory.
    public var residentSize: (accumulators: Int, keys: Int, keyBytes: Int) {
        (accTable.count, keyTable.count - idleKeys, keyArena.count - keyGarbage)
    }

    /// Makes room for what `residentSize` said before a restore, so that the tables and arrays
    /// are not grown (and copied) step by step.
    public func reserve(accumulators: Int, keys: Int, keyBytes: Int) {
        keyTable.reserve(keys)
        keyArena.reserveCapacity(keyBytes)
        keyRefs.reserveCapacity(keys)
        keyIdleSince.reserveCapacity(keys)
        keyLast.reserveCapacity(keys)
        keyHashes.reserveCapacity(keys)
        keyOffset.reserveCapacity(keys)
        keyLength.reserveCapacity(keys)
        accTable.reserve(accumulators)
        accKey.reserveCapacity(accumulators)
        accSlice.reserveCapacity(accumulators)
        dirty.reserveCapacity(accumulators)
        changed.reserveCapacity(accumulators)
        persisted.reserveCapacity(accumulators)
        accValues.reserveCapacity(accumulators * layout.stride)
    }

    /// Puts back the closing position read from a checkpoint.
    public func restore(closedThrough: Int64?) {
        self.closedThrough = closedThrough
        if let c = closedThrough { nextCloseAt = c + slide + size + grace }
    }
}
