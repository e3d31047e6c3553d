import Hummingbird
import HTTPTypes
import Prometheus
import Tally

/// The routes of SPEC §5 over a `QueryService`. Handlers ask the service (which is thread-safe and
/// answers from live state) and write the JSON by hand, so the engine's JSON fragments (window,
/// definition, key, values) are embedded as they are.
struct QueryRoutes: Sendable {
    let service: any QueryService
    let metrics: PrometheusCollectorRegistry
    let limits: HTTPLimits

    /// The methods answered with 405 on a known path; any other method on any path is a 404.
    static let refusedMethods: [HTTPRequest.Method] = [.post, .put, .delete, .patch, .options]

    /// Adds every route to `router`.
    func register(on router: Router<BasicRequestContext>) {
        add(router, "/health", health)
        add(router, "/queries", queries)
        add(router, "/queries/:name", query)
        // `keys` with no value is the key of a definition with `groupBy: []`.
        add(router, "/queries/:name/keys", keys)
        add(router, "/queries/:name/keys/**", keys)
        add(router, "/metrics", metricsText)
    }

    private func add(
        _ router: Router<BasicRequestContext>, _ path: RouterPath,
        _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
        router.get(path, use: handler)
        for method in Self.refusedMethods {
            router.on(path, method: method) { request, _ -> Response in
                throw HTTPAPIError(
                    .methodNotAllowed, "\(request.method) is not allowed here; use GET", headers: [.allow: "GET, HEAD"])
            }
        }
    }

    @Sendable func health(_ request: Request, _ context: BasicRequestContext) -> Response {
        let status = service.health()
        return JSONBody.response(status.json, status: status.ready ? .ok : .serviceUnavailable)
    }

    @Sendable func queries(_ request: Request, _ context: BasicRequestContext) -> Response {
        JSONBody.response(service.queries().json)
    }

    @Sendable func query(_ request: Request, _ context: BasicRequestContext) throws -> Response {
        // The raw component, decoded here like the key values (the router does not decode).
        let parts = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw HTTPError(.notFound) }
        let name = try KeyRequest.decode(parts[2], what: "query name")
        guard let status = service.query(named: name) else { throw HTTPAPIError(QueryError.unknownQuery(name)) }
        var out: [UInt8] = []
        status.appendJSON(includeDefinition: true, to: &out)
        return JSONBody.response(out)
    }

    /// With scale-out, the instance that holds a key's windows, by HTTP address.
    static let ownerHeader = HTTPField.Name("X-Tally-Owner")!
    /// Marks a request one instance forwards to the others (who then answer from themselves).
    static let forwardedHeader = HTTPField.Name("X-Tally-Forwarded")!

    @Sendable func keys(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let asked = try KeyRequest(path: request.uri.path, query: request.uri.query, limits: limits)
        switch service.windows(query: asked.query, key: asked.key, from: asked.from, to: asked.to) {
        case .success(let windows):
            if let answer = Self.ownAnswer(windows, ownAddress: service.ownAddress) {
                return JSONBody.response(answer.body, headers: answer.headers)
            }
            // Scale-out: the key's shard may be another instance's; the one that has its windows
            // answers (its likely owners are asked first; each request asked is counted).
            if request.headers[Self.forwardedHeader] == nil {
                for peer in service.peers(query: asked.query, key: asked.key) {
                    metrics.makeCounter(name: "tally_query_forwards_total").increment()
                    guard let answer = await PeerHTTP.get(
                        peer, target: request.uri.description, headers: [(Self.forwardedHeader.rawName, "1")], timeoutMs: 2_000),
                        answer.status == 200, let owner = answer.header(Self.ownerHeader.rawName)
                    else { continue }
                    return JSONBody.response(answer.body, headers: [Self.ownerHeader: owner])
                }
            }
            return JSONBody.response(windows.json)
        case .failure(let error): throw HTTPAPIError(error)
        }
    }

    /// The answer to a key query that this instance gives from its own windows: always when it
    /// runs alone; with scale-out (`ownAddress`) only when it has windows of the key, naming
    /// itself in `X-Tally-Owner` — else nil, and the other instances are asked.
    static func ownAnswer(_ windows: KeyWindows, ownAddress: String?) -> (body: [UInt8], headers: HTTPFields)? {
        guard let own = ownAddress else { return (windows.json, [:]) }
        return windows.windows.isEmpty ? nil : (windows.json, [ownerHeader: own])
    }

    @Sendable func metricsText(_ request: Request, _ context: BasicRequestContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
    }
}
