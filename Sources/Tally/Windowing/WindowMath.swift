/// Integer helpers for epoch-aligned windows; correct for negative times (before 1970).
public enum WindowMath {
    /// ⌊a / b⌋ for b > 0.
    @inline(__always) public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    /// The largest multiple of `m` that is ≤ `t`.
    @inline(__always) public static func floorMultiple(_ t: Int64, _ m: Int64) -> Int64 {
        floorDiv(t, m) * m
    }

    /// Starts of every window of `spec` that contains `t`, ascending: tumbling `floor(t/S)*S`;
    /// sliding every multiple of `slide` in `(t - size, t]`.
    public static func windowStarts(containing t: Int64, _ spec: WindowSpec) -> [Int64] {
        let last = floorMultiple(t, spec.slide)
        return Array(stride(from: floorMultiple(t - spec.size, spec.slide) + spec.slide, through: last, by: Int(spec.slide)))
    }

    /// Greatest common divisor, the width of the slices a sliding window is built from.
    public static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }
}
