import Foundation
import Hummingbird
import HummingbirdTesting
import TallyHTTP
import Testing

/// Random requests against the API over `FakeQueryService`: odd paths, valid and broken
/// percent-encodings (`%zz`, `%00`, overlong UTF-8, lone surrogates), huge keys and URIs beyond
/// `HTTPLimits`, bad `from`/`to`, unknown methods, hundreds of segments. No request may fail the
/// server; every answer that is not 2xx is a 4xx with a JSON body `{"error":…}`.
///
/// `TALLY_HTTP_FUZZ_CASES` sets the number of requests (default 1,500), `TALLY_HTTP_FUZZ_SEED` the seed.
@Suite struct HTTPFuzzTests {
    static var caseCount: Int {
        ProcessInfo.processInfo.environment["TALLY_HTTP_FUZZ_CASES"].flatMap { Int($0) } ?? 1_500
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["TALLY_HTTP_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x4777_F022
    }

    /// SplitMix64, as in the other test targets.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    }

    static let prefixes = [
        "", "/", "/queries", "/queries/orders_per_customer", "/queries/global", "/queries/orders_per_customer/keys",
        "/queries/global/keys", "/health", "/metrics", "/queries/nope/keys",
    ]
    static let segments = [
        "c42", "eu", "", "keys", "queries", "orders_per_customer", "global", "..", ".", "%2E%2E", "..%2F..%2Fetc%2Fpasswd",
        "%41", "%C3%A9", "%F0%9F%99%82", "%2F", "%3F", "%23", "%25", "+", "%20", "%zz", "%", "%4", "%G0", "%00", "a%00b",
        "%C0%AF", "%E0%80%AF", "%C0%80", "%ED%A0%80", "%F4%90%80%80", "%FF", "%C3", "é", "✓", "*", "**", ":name", "{name}",
        "\\", "'", "%22", "true", "-1.5e3", "null", String(repeating: "k", count: 1024), String(repeating: "k", count: 1025),
        String(repeating: "%C3%A9", count: 513), String(repeating: "x", count: 5000),
    ]
    static let queryItems = [
        "from=1", "to=2", "from=", "to", "from=abc", "to=1.5", "from=1e3", "from=-9223372036854775808", "to=9223372036854775807",
        "from=9223372036854775808", "from=%zz", "to=%00", "from=%2D5", "limit=10", "x=y", "=", "&", "from=1&from=2", "%zz=1",
    ]
    static let methods = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW", "PROPFIND", "M-SEARCH"]

    /// One request target.
    static func target(_ rng: inout Random) -> String {
        var uri = rng.pick(prefixes)
        let count = rng.below(20) == 0 ? 200 + rng.below(400) : rng.below(6)
        for _ in 0..<count { uri += "/" + rng.pick(segments) }
        if uri.isEmpty { uri = "/" }
        if rng.below(3) == 0 {
            uri += "?" + (0..<(1 + rng.below(3))).map { _ in rng.pick(queryItems) }.joined(separator: "&")
        }
        if rng.below(25) == 0 { uri += "/" + String(repeating: "q", count: 8192) }
        return uri
    }

    /// Problems with one answer; empty when it keeps the contract.
    static func problems(_ response: TestResponse, method: String, uri: String, limits: HTTPLimits = .init()) -> [String] {
        var out: [String] = []
        let code = response.status.code
        if code >= 500 || code < 200 { out.append("status \(code)") }
        if uri.utf8.count > limits.maxURILength && code != 414 { out.append("\(uri.utf8.count)-byte URI gave \(code), not 414") }
        let isMetrics = uri.hasPrefix("/metrics") && (200..<300).contains(code)
        if method == "HEAD" || isMetrics { return out }
        if response.headers[.contentType] != "application/json; charset=utf-8" {
            out.append("content type \(response.headers[.contentType] ?? "none")")
        }
        let body = Data(response.body.readableBytesView)
        let json = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        if json == nil { out.append("body is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))") }
        if !(200..<300).contains(code) {
            let object = json as? [String: Any]
            if object?.count != 1 || !(object?["error"] is String) {
                out.append("error body is not {\"error\":…}: \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
        }
        return out
    }

    @Test func randomRequestsGetJSONAnswersAndNeverA5xx() async throws {
        var rng = Random(state: Self.seed)
        let requests = (0..<Self.caseCount).map { _ in (Self.pick(&rng), Self.target(&rng)) }
        let started = ContinuousClock.now
        let failures = Failures()
        try await makeApp().test(.router) { client in
            for (method, uri) in requests {
                try await client.execute(uri: uri, method: HTTPRequest.Method(method)!) { response in
                    let p = Self.problems(response, method: method, uri: uri)
                    if !p.isEmpty { failures.add("\(method) \(uri.prefix(300)) (\(uri.utf8.count) bytes): \(p)", status: response.status.code) }
                    failures.count(response.status.code)
                }
            }
        }
        print("HTTP fuzz: \(requests.count) requests (seed \(Self.seed)) in \(ContinuousClock.now - started); statuses \(failures.statuses.sorted { $0.key < $1.key })")
        for f in failures.list.prefix(20) { Issue.record("\(f)") }
        #expect(failures.list.isEmpty)
        // The generator reaches the answers that matter: found, refused, missing, too long.
        #expect(Set(failures.statuses.keys).isSuperset(of: [200, 400, 404, 405, 414]))
    }

    static func pick(_ rng: inout Random) -> String { rng.pick(methods) }

    /// Collects results from the test client's callbacks.
    final class Failures: @unchecked Sendable {
        // Only the one test task touches it, one request after another.
        var list: [String] = []
        var statuses: [Int: Int] = [:]
        func add(_ s: String, status: Int) { list.append(s) }
        func count(_ status: Int) { statuses[status, default: 0] += 1 }
    }
}
