import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Tally

/// The HTTP API (SPEC §5) as a `Service`: add it to the executable's `ServiceGroup`, which owns
/// signal handling; on graceful shutdown the server stops accepting and finishes open requests.
///
/// ```swift
/// let metrics = TallyMetrics.bootstrap()
/// let http = HTTPServer(queries: engine, host: "127.0.0.1", port: 8080, metrics: metrics, logger: logger)
/// let group = ServiceGroup(configuration: .init(
///     services: [engineService, http], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
/// try await group.run()
/// ```
public struct HTTPServer: Service {
    /// The Hummingbird application; `app.test(.router)` exercises it without a socket.
    public let application: Application<RouterResponder<BasicRequestContext>>

    /// The `Server` header of every answer.
    static let serverName = "tally"

    /// Makes the server; nothing is bound until `run()`.
    /// - Parameters:
    ///   - queries: the engine's answers.
    ///   - host: the address to bind (`127.0.0.1` keeps the API local).
    ///   - port: the port to bind; `0` picks a free one, reported to `onListening`.
    ///   - metrics: the registry `GET /metrics` renders (from `TallyMetrics.bootstrap()`).
    ///   - limits: bounds on request targets and key values.
    ///   - logger: where the server logs.
    ///   - onListening: called once bound, with the host and the actual port.
    public init(
        queries: any QueryService, host: String = "127.0.0.1", port: Int = 8080,
        metrics: PrometheusCollectorRegistry, limits: HTTPLimits = HTTPLimits(), logger: Logger,
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) {
        let router = Self.router(queries: queries, metrics: metrics, limits: limits)
        self.application = Application(
            router: router,
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    MalformedRequestHandler(),
                    KeyQueryFastPath(service: queries, limits: limits, serverName: Self.serverName),
                ])),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: Self.serverName),
            onServerRunning: { channel in await onListening(host, channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// The router alone, every route and the JSON error handling, for in-process tests.
    public static func router(
        queries: any QueryService, metrics: PrometheusCollectorRegistry, limits: HTTPLimits = HTTPLimits()
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: JSONErrorMiddleware(limits: limits))
        QueryRoutes(service: queries, metrics: metrics, limits: limits).register(on: router)
        return router
    }

    /// Serves until the enclosing `ServiceGroup` shuts down gracefully or the task is cancelled.
    public func run() async throws {
        try await application.run()
    }
}
