import Hummingbird

/// `GET /queries/{name}/keys/{v1}[/{v2}…][?from=MS&to=MS]`, parsed from the raw request target.
/// The router only dispatches: it splits before decoding and drops empty components, so the key
/// values are read here, where a `%2F` inside a value stays part of that value and an empty value
/// (`…/keys/a/`) is kept.
struct KeyRequest: Equatable {
    /// The definition name.
    var query: String
    /// The key values, decoded, in URL order.
    var key: [String]
    /// Lower bound of window starts, ms.
    var from: Int64?
    /// Upper bound of window starts, ms.
    var to: Int64?

    /// Parses `path` (not yet decoded, without the query) and `query` (the text after `?`).
    init(path: String, query: String?, limits: HTTPLimits) throws(HTTPAPIError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].isEmpty, parts[1] == "queries", parts[3] == "keys" else {
            throw HTTPAPIError(.notFound, "no route for this path; see GET /queries/{name}/keys/{value}…")
        }
        self.query = try Self.decode(parts[2], what: "query name")
        var key: [String] = []
        for (i, raw) in parts.dropFirst(4).enumerated() {
            let value = try Self.decode(raw, what: "key value \(i + 1)")
            guard value.utf8.count <= limits.maxKeyValueLength else {
                throw HTTPAPIError(
                    .badRequest, "key value \(i + 1) is longer than \(limits.maxKeyValueLength) bytes")
            }
            key.append(value)
        }
        self.key = key
        for item in (query ?? "").split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(pair[0], what: "query parameter name")
            guard name == "from" || name == "to" else { continue }  // others are ignored, as is usual
            var text = ""
            if pair.count == 2 { text = try Self.decode(pair[1], what: "parameter \(name)") }
            guard let ms = Int64(text) else {
                throw HTTPAPIError(.badRequest, "\(name) must be an integer (epoch milliseconds)")
            }
            if name == "from" { self.from = ms } else { self.to = ms }
        }
    }

    static func decode(_ raw: Substring, what: String) throws(HTTPAPIError) -> String {
        guard let text = PercentDecoding.decode(raw) else {
            throw HTTPAPIError(.badRequest, "invalid percent-encoding or UTF-8 in the \(what)")
        }
        return text
    }
}
