/// Results as an operator emits them, laid out flat: keys in one byte array, values in one
/// array of doubles (NaN for null, as the store keeps them). Once its arrays have grown, a batch
/// emptied with `removeAll()` takes results with no allocation per result; the output stage and
/// the closed-result buffers read them in place (`key(_:)`, `values(_:)`).
///
/// As a collection its elements are `WindowResult`s, each made on access (two arrays): for
/// tests, queries and the rare paths, not for the emit loop.
public struct ResultBatch: RandomAccessCollection, Sendable {
    /// Values per result.
    public let width: Int
    private var keyBytes: [UInt8] = []
    /// Where each result's key ends in `keyBytes`.
    private var keyEnds: [Int] = []
    private var windows: [Window] = []
    private var flat: [Double] = []

    private struct Window {
        var start: Int64
        var end: Int64
        var isFinal: Bool
    }

    /// An empty batch of results with `width` values each.
    public init(width: Int) { self.width = width }

    public var startIndex: Int { 0 }
    public var endIndex: Int { windows.count }

    /// Result `i` as a value of its own.
    public subscript(i: Int) -> WindowResult {
        WindowResult(key: Array(key(i)), start: start(i), end: end(i), isFinal: isFinal(i),
                     values: values(i).map { $0.isNaN ? nil : $0 })
    }

    /// The encoded group key of result `i`, in place.
    @inline(__always) public func key(_ i: Int) -> ArraySlice<UInt8> {
        keyBytes[(i == 0 ? 0 : keyEnds[i - 1])..<keyEnds[i]]
    }

    /// The values of result `i`, in place; NaN for null.
    @inline(__always) public func values(_ i: Int) -> ArraySlice<Double> {
        flat[(i * width)..<((i + 1) * width)]
    }

    @inline(__always) public func start(_ i: Int) -> Int64 { windows[i].start }
    @inline(__always) public func end(_ i: Int) -> Int64 { windows[i].end }
    @inline(__always) public func isFinal(_ i: Int) -> Bool { windows[i].isFinal }

    /// Adds the result of accumulator `acc` (laid out by `layout`) for `key`.
    @inline(__always)
    mutating func append(key: ArraySlice<UInt8>, start: Int64, end: Int64, isFinal: Bool, acc: UnsafePointer<Double>, layout: AggregateLayout) {
        keyBytes.append(contentsOf: key)
        keyEnds.append(keyBytes.count)
        windows.append(Window(start: start, end: end, isFinal: isFinal))
        layout.appendValues(acc, to: &flat)
    }

    /// Adds `r`, whose values must number `width`.
    public mutating func append(_ r: WindowResult) {
        precondition(r.values.count == width, "a result of \(r.values.count) values in a batch of \(width)")
        keyBytes.append(contentsOf: r.key)
        keyEnds.append(keyBytes.count)
        windows.append(Window(start: r.start, end: r.end, isFinal: r.isFinal))
        for v in r.values { flat.append(v ?? .nan) }
    }

    /// Empties the batch, keeping its storage for the next results.
    public mutating func removeAll() {
        keyBytes.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        windows.removeAll(keepingCapacity: true)
        flat.removeAll(keepingCapacity: true)
    }

    /// Whether the batch has kept storage from earlier results.
    var hasCapacity: Bool { windows.capacity > 0 }
}
