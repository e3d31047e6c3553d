/// What the HTTP API asks of the engine. The engine answers from its live state (every event
/// processed so far), so answers never wait for a checkpoint. Implementations are thread-safe.
public protocol QueryService: Sendable {
    /// Whether state is restored and the engine runs.
    func health() -> HealthStatus
    /// Every loaded definition with its counters.
    func queries() -> [QueryStatus]
    /// One definition, or nil when unknown.
    func query(named: String) -> QueryStatus?
    /// The windows of one group key (values as they appear in the URL, in `groupBy` order), with
    /// window starts bounded by `from`/`to` when given.
    func windows(query: String, key: [String], from: Int64?, to: Int64?) -> Result<KeyWindows, QueryError>
    /// With scale-out: this instance's HTTP address as the others know it.
    var ownAddress: String? { get }
    /// With scale-out: the other live instances of the group, whose answers complete this one's.
    func peers() -> [String]
    /// With scale-out: the other live instances to ask for `key` of `query`, those that own it
    /// first when that can be told.
    func peers(query: String, key: [String]) -> [String]
}

extension QueryService {
    /// A standalone instance answers alone.
    public var ownAddress: String? { nil }
    /// A standalone instance has no peers.
    public func peers() -> [String] { [] }
    /// By default every peer, in `peers()` order.
    public func peers(query: String, key: [String]) -> [String] { peers() }
}

/// An instance of the group (scale-out) and the partitions of a definition's source it owns.
public struct InstanceStatus: Sendable, Equatable {
    /// Its HTTP address.
    public var http: String
    /// The partitions it owns.
    public var partitions: [Int32]

    /// Makes one.
    public init(http: String, partitions: [Int32]) {
        self.http = http
        self.partitions = partitions
    }
}

/// `/health`.
public struct HealthStatus: Sendable, Equatable {
    /// `ok`, `restoring`, `starting` or `degraded`.
    public var status: String
    /// Whether the engine serves (`200`) or not (`503`).
    public var ready: Bool
    /// Human-readable detail (e.g. restore progress or the last broker error).
    public var detail: String?

    /// Makes one.
    public init(status: String, ready: Bool, detail: String? = nil) {
        self.status = status
        self.ready = ready
        self.detail = detail
    }
}

/// One definition's status (an element of `GET /queries`).
public struct QueryStatus: Sendable, Equatable {
    /// Definition name.
    public var name: String
    /// Source topic.
    public var source: String
    /// The window, as JSON text (`{"type":"tumbling","size":"1m","grace":"0s"}`).
    public var windowJSON: String
    /// Current watermark, ms.
    public var watermark: Int64?
    /// Events counted in at least one window.
    public var events: Int
    /// Events not passing `where`.
    public var filtered: Int
    /// Late events.
    public var late: Int
    /// Rejected events by reason (`invalid_json`, …).
    public var rejectedBy: [String: Int]
    /// Time of the last checkpoint, ms.
    public var lastCheckpoint: Int64?
    /// Partitions of the source this instance owns.
    public var partitions: [Int32]
    /// The definition file's JSON (for `GET /queries/{name}`).
    public var definitionJSON: String
    /// With scale-out: every live instance of the group with the partitions it owns.
    public var instances: [InstanceStatus]

    /// Makes one.
    public init(
        name: String, source: String, windowJSON: String, watermark: Int64?, events: Int, filtered: Int,
        late: Int, rejectedBy: [String: Int], lastCheckpoint: Int64?, partitions: [Int32], definitionJSON: String,
        instances: [InstanceStatus] = []
    ) {
        self.instances = instances
        self.name = name
        self.source = source
        self.windowJSON = windowJSON
        self.watermark = watermark
        self.events = events
        self.filtered = filtered
        self.late = late
        self.rejectedBy = rejectedBy
        self.lastCheckpoint = lastCheckpoint
        self.partitions = partitions
        self.definitionJSON = definitionJSON
    }

    /// All rejected events.
    public var rejected: Int { rejectedBy.values.reduce(0, +) }
}

/// The answer of `GET /queries/{name}/keys/…`.
public struct KeyWindows: Sendable, Equatable {
    /// Definition name.
    public var query: String
    /// `{"path": value, …}` as JSON text.
    public var keyJSON: String
    /// Windows sorted by start.
    public var windows: [Window]

    /// One window of the key.
    public struct Window: Sendable, Equatable {
        /// Start, ms.
        public var start: Int64
        /// End, ms.
        public var end: Int64
        /// Whether it has closed.
        public var isFinal: Bool
        /// `{"name": value, …}` as JSON text.
        public var valuesJSON: String

        /// Makes one.
        public init(start: Int64, end: Int64, isFinal: Bool, valuesJSON: String) {
            self.start = start
            self.end = end
            self.isFinal = isFinal
            self.valuesJSON = valuesJSON
        }
    }

    /// Makes one.
    public init(query: String, keyJSON: String, windows: [Window]) {
        self.query = query
        self.keyJSON = keyJSON
        self.windows = windows
    }
}

/// Why a query request cannot be answered; maps to a 4xx status.
public enum QueryError: Error, Sendable, Equatable {
    /// No definition of that name (404).
    case unknownQuery(String)
    /// Wrong number of key values (400).
    case wrongKeyArity(expected: Int, got: Int)
    /// A bad parameter (400).
    case badParameter(String)
    /// The state could not be read (503); the engine stops on it.
    case unavailable(String)
}
