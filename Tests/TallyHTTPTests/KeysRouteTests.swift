import Hummingbird
import HummingbirdTesting
import Tally
import TallyHTTP
import Testing

@Suite struct KeysRouteTests {
    /// The decoded key values the fake received, from its echo in `key`.
    func echoedKey(_ response: TestResponse) throws -> [String] {
        let key = try #require(try jsonObject(response)["key"] as? [String: String])
        return (0..<key.count).map { key["k\($0 + 1)"] ?? "<missing>" }
    }

    @Test func answersTheWindowsOfAKeyInTheSpecShape() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/c42/eu", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(
                    text(response)
                        == #"{"query":"orders_per_customer","key":{"k1":"c42","k2":"eu"},"windows":["#
                        + #"{"start":1000,"end":2000,"final":true,"values":{"orders":3,"revenue":12.5}},"#
                        + #"{"start":2000,"end":3000,"final":false,"values":{"orders":1,"revenue":null}}]}"#)
                let object = try jsonObject(response)
                let windows = try #require(object["windows"] as? [[String: Any]])
                #expect(windows.count == 2)
                #expect(windows[0]["final"] as? Bool == true)
                #expect((windows[1]["values"] as? [String: Any])?["orders"] as? Int == 1)
            }
        }
    }

    @Test func fromAndToBoundWindowStarts() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/c/eu?from=1500&to=2000", method: .get) {
                response throws in
                #expect(response.status == .ok)
                let windows = try #require(try jsonObject(response)["windows"] as? [[String: Any]])
                #expect(windows.map { $0["start"] as? Int } == [2000])
            }
            try await client.execute(uri: "/queries/orders_per_customer/keys/c/eu?to=-5", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(text(response).hasSuffix(#""windows":[]}"#))
            }
        }
    }

    @Test(arguments: ["from=abc", "to=1.5", "from=", "from", "to=1e3", "from=99999999999999999999", "to=%ZZ"])
    func nonIntegerBoundIs400(_ query: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/c/eu?\(query)", method: .get) { response throws in
                #expect(response.status == .badRequest)
                #expect(try !errorMessage(response).isEmpty)
            }
        }
    }

    @Test(arguments: ["/queries/orders_per_customer/keys/c42", "/queries/orders_per_customer/keys/a/b/c",
                      "/queries/orders_per_customer/keys", "/queries/global/keys/x"])
    func wrongNumberOfKeyValuesIs400(_ uri: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorMessage(response).contains("key value"))
            }
        }
    }

    @Test func unknownQueryIs404() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/nope/keys/a/b", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(try errorMessage(response) == #"unknown query "nope""#)
            }
        }
    }

    @Test func encodedSlashAndUnicodeStayInsideOneValue() async throws {
        try await makeApp().test(.router) { client in
            let uri = "/queries/orders_per_customer/keys/a%2Fb%2F%2F/caf%C3%A9%20%E2%9C%93+%25"
            try await client.execute(uri: uri, method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(try echoedKey(response) == ["a/b//", "café ✓+%"])
            }
        }
    }

    @Test func emptyValuesAreKept() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/a/", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(try echoedKey(response) == ["a", ""])
            }
        }
    }

    @Test func globalGroupHasNoKeyValues() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/global/keys?from=0", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(try jsonObject(response)["key"] as? [String: String] == [:])
            }
        }
    }

    @Test(arguments: ["%ZZ", "%", "%4", "%C3", "%FF%FE", "%C3%28", "ok%"])
    func invalidPercentEncodingIs400(_ value: String) async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer/keys/a/\(value)", method: .get) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorMessage(response).contains("percent-encoding"))
            }
        }
    }

    @Test func overlongKeyValueIs400AndOverlongURIIs414() async throws {
        try await makeApp(limits: HTTPLimits(maxURILength: 8192, maxKeyValueLength: 1024)).test(.router) { client in
            let atLimit = String(repeating: "x", count: 1024)
            try await client.execute(uri: "/queries/orders_per_customer/keys/a/\(atLimit)", method: .get) { response throws in
                #expect(response.status == .ok)
            }
            // 1025 decoded bytes, even though encoded they are three times as long.
            let over = String(repeating: "%41", count: 1025)
            try await client.execute(uri: "/queries/orders_per_customer/keys/a/\(over)", method: .get) { response throws in
                #expect(response.status == .badRequest)
                #expect(try errorMessage(response).contains("longer than 1024"))
            }
            let huge = String(repeating: "y", count: 9000)
            try await client.execute(uri: "/queries/orders_per_customer/keys/a/\(huge)", method: .get) { response throws in
                #expect(response.status == .uriTooLong)
                #expect(try errorMessage(response).contains("8192"))
            }
        }
    }
}
