import Foundation
import Hummingbird
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
