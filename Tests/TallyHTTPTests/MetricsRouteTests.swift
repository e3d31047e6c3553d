import Hummingbird
import HummingbirdTesting
import Metrics
import Testing

@Suite struct MetricsRouteTests {
    @Test func countersFromSwiftMetricsAppearInPrometheusText() async throws {
        let app = makeApp()  // bootstraps swift-metrics before the counter is made
        Counter(label: "tally_test_total").increment(by: 3)
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                let body = text(response)
                #expect(body.contains("# TYPE tally_test_total counter"))
                #expect(body.contains("tally_test_total 3"))
            }
        }
    }
}
