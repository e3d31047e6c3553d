import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import TallyHTTP
import Testing

/// The server as the executable runs it: a `Service` in a `ServiceGroup`, on a real socket.
@Suite struct HTTPServerServiceTests {
    @Test func servesOnLoopbackSurvivesAHugeRequestAndStopsGracefully() async throws {
        try await withRunningServer { port in
            #expect(port > 0)

            // A generous timeout: on two cores the whole suite runs beside this test.
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60)))
            client.connect()
            let health = try await client.execute(.init("/health", method: .get))
            #expect(health.status == .ok)
            #expect(health.body.map { String(buffer: $0) } == #"{"status":"ok"}"#)
            // 100 KiB of path: past NIO's 80 KiB head limit, so NIO's parser refuses it before any
            // route runs; MalformedRequestHandler still answers the API's JSON 414, then closes.
            let huge = "/queries/orders_per_customer/keys/" + String(repeating: "a", count: 100_000) + "/b"
            let answer = try await client.execute(.init(huge, method: .get))
            #expect(answer.status == .uriTooLong)
            #expect(answer.headers[.contentType] == "application/json; charset=utf-8")
            #expect(answer.body.map { String(buffer: $0) }?.hasPrefix(#"{"error":"#) == true)
            try? await client.shutdown()

            let second = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60)))
            second.connect()
            let long = "/queries/orders_per_customer/keys/" + String(repeating: "a", count: 9000) + "/b"
            let refused = try await second.execute(.init(long, method: .get))
            #expect(refused.status == .uriTooLong)
            let again = try await second.execute(.init("/queries/global", method: .get))
            #expect(again.status == .ok)
            try await second.shutdown()
        }
    }
}
