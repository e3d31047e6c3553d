import Foundation
import Hummingbird
import HummingbirdTesting
import TallyHTTP
import Testing

/// The API reaches no file: path traversal in any spelling is an unknown query (404 JSON) or a
/// key value like any other, and never shows a file's content.
@Suite struct SecurityRouteTests {
    static let traversals = [
        "/queries/..%2f..%2fetc%2fpasswd", "/queries/..%2F..%2F..%2Fetc%2Fpasswd", "/queries/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/queries/..%5c..%5cetc%5cpasswd", "/queries/%252e%252e%252fetc%252fpasswd", "/queries/..%c0%af..%c0%afetc%c0%afpasswd",
        "/queries/%2Fetc%2Fpasswd", "/queries/etc%00passwd", "/queries/....%2f%2fetc%2fpasswd",
    ]

    @Test(arguments: SecurityRouteTests.traversals)
    func traversalInAQueryNameIsAnUnknownQueryOrABadRequest(_ uri: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response throws in
                // %c0%af (overlong "/") and %00 are refused as bad encodings; the rest are unknown names.
                let expected: HTTPResponse.Status = uri.contains("%c0%af") ? .badRequest : .notFound
                #expect(response.status == expected, "\(uri)")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let message = try errorMessage(response)
                #expect(!message.contains("root:") && !text(response).contains("/bin/"))
            }
        }
    }

    @Test(arguments: ["/../../etc/passwd", "/queries/../../etc/passwd", "/etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                      "/health/../../../etc/passwd", "/metrics/..%2f..%2fetc%2fpasswd", "/queries/global/keys/../../../../etc/passwd/x"])
    func traversalAnywhereElseFindsNoFile(_ uri: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response throws in
                #expect((400..<500).contains(response.status.code), "\(uri): \(response.status)")
                #expect(try !errorMessage(response).isEmpty)
                #expect(!text(response).contains("root:"))
            }
        }
    }

    /// A traversal spelled as a key value is just a key value: it reaches the service decoded
    /// and comes back as data, not as a file.
    @Test func traversalInAKeyValueIsAKeyValue() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/..%2F..%2Fetc%2Fpasswd/eu", method: .get) { response throws in
                #expect(response.status == .ok)
                let key = try #require(try jsonObject(response)["key"] as? [String: String])
                #expect(key == ["k1": "../../etc/passwd", "k2": "eu"])
            }
        }
    }

}
