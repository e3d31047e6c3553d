/// What happened to the events of one definition: every read event is exactly one of counted,
/// filtered, late or rejected.
public struct RunStats: Sendable, Equatable {
    /// Events read.
    public var read = 0
    /// Events counted in at least one window.
    public var counted = 0
    /// Events not passing `where`.
    public var filtered = 0
    /// Events whose windows had all closed.
    public var late = 0
    /// Rejected events, by reason.
    public var rejectedBy: [RejectReason: Int] = [:]
    /// Results emitted.
    public var emitted = 0

    /// An empty tally.
    public init() {}

    /// All rejected events.
    public var rejected: Int { rejectedBy.values.reduce(0, +) }

    /// Records one outcome.
    @inline(__always) public mutating func record(_ outcome: EventOutcome) {
        read += 1
        switch outcome {
        case .counted: counted += 1
        case .filtered: filtered += 1
        case .late: late += 1
        case .rejected(let r): rejectedBy[r, default: 0] += 1
        }
    }

    /// One line for humans: `read 1000: counted 950, filtered 30, late 5, rejected 15 (invalid_json 10, …)`.
    public var summary: String {
        let reasons = rejectedBy.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }
        return "read \(read): counted \(counted), filtered \(filtered), late \(late), rejected \(rejected)"
            + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))") + "; emitted \(emitted) results"
    }
}
