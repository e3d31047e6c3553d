/// Bounds on what a request may ask, so a huge or hostile URL costs a 4xx answer, never memory or
/// a crash.
public struct HTTPLimits: Sendable, Equatable {
    /// The longest request target (path and query), in bytes; longer gets `414`.
    public var maxURILength: Int
    /// The longest decoded key value, in bytes; longer gets `400` (no group key is that long).
    public var maxKeyValueLength: Int

    /// Makes one; the defaults are 8 KiB per URI and 1 KiB per key value.
    public init(maxURILength: Int = 8192, maxKeyValueLength: Int = 1024) {
        self.maxURILength = maxURILength
        self.maxKeyValueLength = maxKeyValueLength
    }
}
