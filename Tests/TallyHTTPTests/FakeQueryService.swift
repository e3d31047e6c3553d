import Tally

/// A `QueryService` with fixed answers. `windows` echoes the key values it received into `keyJSON`
/// (under `k1`, `k2`, …), so tests see exactly what the HTTP layer decoded.
struct FakeQueryService: QueryService {
    var healthStatus = HealthStatus(status: "ok", ready: true)
    var statuses: [QueryStatus] = [.orders, .global]
    /// Windows of every key, before the `from`/`to` bounds.
    var windowList: [KeyWindows.Window] = [
        .init(start: 1000, end: 2000, isFinal: true, valuesJSON: #"{"orders":3,"revenue":12.5}"#),
        .init(start: 2000, end: 3000, isFinal: false, valuesJSON: #"{"orders":1,"revenue":null}"#),
    ]

    /// With scale-out, this instance's address (nil: standalone).
    var own: String?

    var ownAddress: String? { own }
    func health() -> HealthStatus { healthStatus }
    func queries() -> [QueryStatus] { statuses }
    func query(named name: String) -> QueryStatus? { statuses.first { $0.name == name } }

    func windows(query: String, key: [String], from: Int64?, to: Int64?) -> Result<KeyWindows, QueryError> {
        guard let status = self.query(named: query) else { return .failure(.unknownQuery(query)) }
        let arity = status.name == "global" ? 0 : 2
        guard key.count == arity else { return .failure(.wrongKeyArity(expected: arity, got: key.count)) }
        var keyJSON: [UInt8] = [UInt8(ascii: "{")]
        for (i, value) in key.enumerated() {
            if i > 0 { keyJSON.append(UInt8(ascii: ",")) }
            JSONWriter.appendString("k\(i + 1)", to: &keyJSON)
            keyJSON.append(UInt8(ascii: ":"))
            JSONWriter.appendString(value, to: &keyJSON)
        }
        keyJSON.append(UInt8(ascii: "}"))
        let windows = windowList.filter { w in (from.map { w.start >= $0 } ?? true) && (to.map { w.start <= $0 } ?? true) }
        return .success(KeyWindows(query: query, keyJSON: String(decoding: keyJSON, as: UTF8.self), windows: windows))
    }
}

extension QueryStatus {
    static let orders = QueryStatus(
        name: "orders_per_customer", source: "orders",
        windowJSON: #"{"type":"tumbling","size":"1m","grace":"0s"}"#, watermark: 1_764_000_000_000, events: 42,
        filtered: 7, late: 2, rejectedBy: ["invalid_json": 3, "missing_time": 1], lastCheckpoint: 1_764_000_001_000,
        partitions: [0, 1, 2],
        definitionJSON: #"{"name":"orders_per_customer","source":"orders","groupBy":["customer_id","region"]}"#)
    static let global = QueryStatus(
        name: "global", source: "events", windowJSON: #"{"type":"sliding","size":"5m","slide":"1m","grace":"10s"}"#,
        watermark: nil, events: 0, filtered: 0, late: 0, rejectedBy: [:], lastCheckpoint: nil, partitions: [],
        definitionJSON: #"{"name":"global","source":"events","groupBy":[]}"#)
}
