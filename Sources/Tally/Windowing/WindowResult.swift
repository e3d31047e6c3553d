/// One emitted aggregate: a group key's values in one window.
public struct WindowResult: Sendable, Equatable {
    /// The group key, encoded by `GroupKey`.
    public var key: [UInt8]
    /// Window start, epoch ms (inclusive).
    public var start: Int64
    /// Window end, epoch ms (exclusive).
    public var end: Int64
    /// True once the window has closed and these values are its last.
    public var isFinal: Bool
    /// One value per aggregate, nil for null; counts are whole numbers.
    public var values: [Double?]
}
