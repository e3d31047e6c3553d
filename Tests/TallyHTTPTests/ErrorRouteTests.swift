import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ErrorRouteTests {
    @Test(arguments: ["/", "/nope", "/queries/a/b", "/queries/orders_per_customer/values/x", "/health/x", "/metricsx"])
    func unknownPathIs404WithJSONError(_ uri: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(try !errorMessage(response).isEmpty)
            }
        }
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete, .patch])
    func otherMethodOnAKnownPathIs405(_ method: HTTPRequest.Method) async throws {
        try await makeApp().test(.router) { client in
            for uri in ["/health", "/queries", "/queries/global", "/queries/global/keys/x", "/metrics"] {
                try await client.execute(uri: uri, method: method) { response throws in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == "GET, HEAD")
                    #expect(try errorMessage(response).contains("GET"))
                }
            }
        }
    }

    @Test func unusualMethodIsAJSONError() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/health", method: HTTPRequest.Method("BREW")!) { response throws in
                #expect((400..<500).contains(response.status.code))
                #expect(try !errorMessage(response).isEmpty)
            }
        }
    }

    /// A few hundred random request targets built from the characters that break parsers:
    /// every one gets a JSON body and a status below 500.
    @Test func randomPathsNeverFailTheServer() async throws {
        var rng = SystemRandomNumberGenerator()
        let pieces = [
            "/", "//", "queries", "keys", "orders_per_customer", "global", "health", "metrics", "%", "%2F", "%2", "%ZZ",
            "%00", "%C3%A9", "%C3", "%FF", "é", "✓", "..", ".", "?", "&", "=", "from=", "to=1", "from=x", "#", " ",
            "\t", "\"", "\\", "*", "**", ":name", "+", String(repeating: "z", count: 700), String(repeating: "%41", count: 400),
        ]
        var uris = ["//metrics", "/./metrics", "/queries/../metrics"]  // once failed as random picks
        for _ in 0..<400 {
            var uri = Bool.random(using: &rng) ? "/queries/" : "/"
            for _ in 0..<Int.random(in: 0...12, using: &rng) { uri += pieces.randomElement(using: &rng)! }
            uris.append(uri)
        }
        let all = uris
        try await makeApp().test(.router) { client in
            for uri in all {
                let method: HTTPRequest.Method = Int.random(in: 0..<10) == 0 ? .post : .get
                try await client.execute(uri: uri, method: method) { response throws in
                    #expect(response.status.code < 500, "\(method) \(uri)")
                    // The router ignores empty and "." segments, so "//metrics" or "/./metrics" is the
                    // metrics page too: its Prometheus text is the one non-JSON answer.
                    if response.status == .ok, response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true {
                        return
                    }
                    _ = try parsedJSON(response)
                }
            }
        }
    }
}
