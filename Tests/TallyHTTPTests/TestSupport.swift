import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import HummingbirdTesting
import Testing
import TallyHTTP

/// The API's application over `service`, for `app.test(.router)`.
func makeApp(_ service: FakeQueryService = FakeQueryService(), limits: HTTPLimits = HTTPLimits()) -> some ApplicationProtocol {
    Application(router: HTTPServer.router(queries: service, metrics: TallyMetrics.bootstrap(), limits: limits))
}

/// The body parsed as JSON (fragments allowed), failing the test when it is not JSON.
func parsedJSON(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
    let bytes = Data(response.body.readableBytesView)
    do {
        return try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
    } catch {
        Issue.record("not JSON: \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        throw error
    }
}

/// The body parsed as a JSON object.
func jsonObject(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    try #require(try parsedJSON(response, sourceLocation: sourceLocation) as? [String: Any], sourceLocation: sourceLocation)
}

/// The `error` message of an error body, which must be exactly `{"error": string}`.
func errorMessage(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let object = try jsonObject(response, sourceLocation: sourceLocation)
    #expect(object.count == 1, "error body has more than `error`: \(object)", sourceLocation: sourceLocation)
    return try #require(object["error"] as? String, sourceLocation: sourceLocation)
}

/// The body as text.
func text(_ response: TestResponse) -> String { String(buffer: response.body) }

/// Runs the server as the executable does (a `Service` in a `ServiceGroup`, on a free loopback
/// port) around `body`, which gets the port; then shuts it down gracefully and waits for it.
func withRunningServer(_ body: (Int) async throws -> Void) async throws {
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let logger = Logger(label: "tally.http.test")
    let server = HTTPServer(
        queries: FakeQueryService(), host: "127.0.0.1", port: 0, metrics: TallyMetrics.bootstrap(), logger: logger,
        onListening: { _, port in portContinuation.yield(port) })
    let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(port)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()  // run() returns once the server has stopped
    }
}
