/// How a definition's aggregates sit in a flat accumulator of `Double`s, and how to update,
/// combine and read them. Slots per aggregate: `[n]` for count, `[n, value]` for the others,
/// where n counts the values seen (so a window without values reads as null).
public struct AggregateLayout: Sendable {
    enum Kind: Sendable { case countEvents, countField, sum, avg, min, max }
    struct Column: Sendable {
        var kind: Kind
        var offset: Int
        var slot: Int  // field slot in the FieldPlan, -1 for countEvents
    }

    let columns: [Column]
    /// Doubles per accumulator.
    public let stride: Int
    /// Field slots that must hold numbers (or be absent) for an event to count.
    let numericSlots: [Int]

    /// A layout for `specs`, registering their fields in `plan`.
    public init(_ specs: [AggregateSpec], plan: inout FieldPlan) {
        var columns: [Column] = []
        var offset = 0
        var numeric: [Int] = []
        for spec in specs {
            let slot = spec.field.map { plan.slot(for: $0) } ?? -1
            let kind: Kind
            switch spec.fn {
            case .count: kind = spec.field == nil ? .countEvents : .countField
            case .sum: kind = .sum
            case .avg: kind = .avg
            case .min: kind = .min
            case .max: kind = .max
            }
            columns.append(Column(kind: kind, offset: offset, slot: slot))
            offset += kind == .countEvents || kind == .countField ? 1 : 2
            if spec.fn != .count && !numeric.contains(slot) { numeric.append(slot) }
        }
        self.columns = columns
        self.stride = offset
        self.numericSlots = numeric
    }

    /// The first field whose value is not a number, null or missing, if any.
    @inline(__always) func hasNonNumeric(_ view: EventView) -> Bool {
        for s in numericSlots {
            let k = view[s].kind
            if k != .number && k != .missing && k != .null { return true }
        }
        return false
    }

    /// Empty accumulator.
    public func initialize(_ acc: UnsafeMutablePointer<Double>) {
        for c in columns {
            acc[c.offset] = 0
            switch c.kind {
            case .countEvents, .countField: break
            case .sum, .avg: acc[c.offset + 1] = 0
            case .min: acc[c.offset + 1] = .infinity
            case .max: acc[c.offset + 1] = -.infinity
            }
        }
    }

    /// Adds one event.
    @inline(__always) public func update(_ acc: UnsafeMutablePointer<Double>, _ view: EventView) {
        for c in columns {
            switch c.kind {
            case .countEvents:
                acc[c.offset] += 1
            case .countField:
                if !view[c.slot].isAbsent { acc[c.offset] += 1 }
            case .sum, .avg:
                let v = view[c.slot]
                if v.kind == .number { acc[c.offset] += 1; acc[c.offset + 1] += v.number }
            case .min:
                let v = view[c.slot]
                if v.kind == .number { acc[c.offset] += 1; acc[c.offset + 1] = Swift.min(acc[c.offset + 1], v.number) }
            case .max:
                let v = view[c.slot]
                if v.kind == .number { acc[c.offset] += 1; acc[c.offset + 1] = Swift.max(acc[c.offset + 1], v.number) }
            }
        }
    }

    /// Folds `src` into `dst`.
    @inline(__always) public func combine(_ dst: UnsafeMutablePointer<Double>, _ src: UnsafePointer<Double>) {
        for c in columns {
            dst[c.offset] += src[c.offset]
            switch c.kind {
            case .countEvents, .countField: break
            case .sum, .avg: dst[c.offset + 1] += src[c.offset + 1]
            case .min: dst[c.offset + 1] = Swift.min(dst[c.offset + 1], src[c.offset + 1])
            case .max: dst[c.offset + 1] = Swift.max(dst[c.offset + 1], src[c.offset + 1])
            }
        }
    }

    /// Output values, one per aggregate: counts as whole numbers, nil for null.
    public func values(_ acc: UnsafePointer<Double>) -> [Double?] {
        var out: [Double?] = []
        out.reserveCapacity(columns.count)
        values(acc, into: &out)
        return out
    }

    /// `values(acc)` written into `out`, whose storage is reused.
    @inline(__always) func values(_ acc: UnsafePointer<Double>, into out: inout [Double?]) {
        out.removeAll(keepingCapacity: true)
        for c in columns {
            let n = acc[c.offset]
            switch c.kind {
            case .countEvents, .countField: out.append(n)
            case .sum, .min, .max: out.append(n > 0 ? acc[c.offset + 1] : nil)
            case .avg: out.append(n > 0 ? acc[c.offset + 1] / n : nil)
            }
        }
    }

    /// `values(acc)` appended to `out` with NaN for null (as `ResultBatch` and the store keep them).
    @inline(__always) func appendValues(_ acc: UnsafePointer<Double>, to out: inout [Double]) {
        for c in columns {
            let n = acc[c.offset]
            switch c.kind {
            case .countEvents, .countField: out.append(n)
            case .sum, .min, .max: out.append(n > 0 ? acc[c.offset + 1] : .nan)
            case .avg: out.append(n > 0 ? acc[c.offset + 1] / n : .nan)
            }
        }
    }

    /// Whether aggregate `i` is a count (printed as an integer).
    public func isCount(_ i: Int) -> Bool {
        columns[i].kind == .countEvents || columns[i].kind == .countField
    }
}
