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

    /// Puts back one slice accumulator read from a checkpoint.
    public func restore(key: [UInt8], slice: Int64, values: UnsafeBufferPointer<Double>) {
        precondition(values.count == layout.stride, "accumulator size differs from the layout")
        keyScratch = key
        let a = accumulator(key: internKey(), slice: slice)
        persisted[Int(a)] = true
        accValues.withUnsafeMutableBufferPointer { buf in
            for i in 0..<layout.stride { buf[Int(a) * layout.stride + i] = values[i] }
        }
    }

    /// Puts back the closing position read from a checkpoint.
    public func restore(closedThrough: Int64?) {
        self.closedThrough = closedThrough
        if let c = closedThrough { nextCloseAt = c + slide + size + grace }
    }
}
