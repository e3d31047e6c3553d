#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `where` condition compiled against a field plan slot.
struct BoundPredicate {
    let slot: Int
    let op: Predicate.Op
    let values: [Literal]

    init(_ p: Predicate, plan: inout FieldPlan) {
        slot = plan.slot(for: p.field)
        op = p.op
        values = p.values
    }

    /// Whether the event satisfies it. Missing or null fields, and comparisons across types,
    /// are false.
    @inline(__always) func holds(_ view: EventView) -> Bool {
        let v = view[slot]
        if v.isAbsent { return false }
        switch op {
        case .exists: return true
        case .in: return values.contains { compare(v, $0, view) == 0 }
        case .eq: return compare(v, values[0], view) == 0
        case .ne: return compare(v, values[0], view).map { $0 != 0 } ?? false
        case .lt: return compare(v, values[0], view).map { $0 < 0 } ?? false
        case .le: return compare(v, values[0], view).map { $0 <= 0 } ?? false
        case .gt: return compare(v, values[0], view).map { $0 > 0 } ?? false
        case .ge: return compare(v, values[0], view).map { $0 >= 0 } ?? false
        }
    }

    /// -1, 0 or 1 comparing the event's value with the literal; nil across types.
    @inline(__always) func compare(_ v: FieldValue, _ lit: Literal, _ view: EventView) -> Int? {
        switch (v.kind, lit) {
        case (.number, .number(let n)): return v.number < n ? -1 : v.number > n ? 1 : 0
        case (.bool, .bool(let b)): return (v.number != 0) == b ? 0 : 1
        case (.string, .string(let s)):
            let b = view.bytes(of: v)
            return s.withUnsafeBytes { l in
                let n = min(b.count, l.count)
                if n > 0, case let d = memcmp(b.baseAddress!, l.baseAddress!, n), d != 0 { return d < 0 ? -1 : 1 }
                return b.count < l.count ? -1 : b.count > l.count ? 1 : 0
            }
        default: return nil
        }
    }
}
