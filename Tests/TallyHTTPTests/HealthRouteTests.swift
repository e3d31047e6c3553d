import Hummingbird
import HummingbirdTesting
import Tally
import Testing

@Suite struct HealthRouteTests {
    @Test func readyEngineAnswersOkWith200() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(text(response) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func restoringEngineAnswers503WithDetail() async throws {
        var service = FakeQueryService()
        service.healthStatus = HealthStatus(status: "restoring", ready: false, detail: "partition 3: \"12%\" read")
        try await makeApp(service).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.status == .serviceUnavailable)
                let object = try jsonObject(response)
                #expect(object.count == 2)
                #expect(object["status"] as? String == "restoring")
                #expect(object["detail"] as? String == "partition 3: \"12%\" read")
            }
        }
    }

    @Test func notReadyWithoutDetailLeavesDetailOut() async throws {
        var service = FakeQueryService()
        service.healthStatus = HealthStatus(status: "starting", ready: false)
        try await makeApp(service).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response throws in
                #expect(response.status == .serviceUnavailable)
                #expect(text(response) == #"{"status":"starting"}"#)
            }
        }
    }

    @Test func headRequestGetsTheStatusWithoutABody() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/health", method: .head) { response throws in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
        }
    }
}
