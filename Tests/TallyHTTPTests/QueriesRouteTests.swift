import Foundation
import Hummingbird
import HummingbirdTesting
import Tally
import Testing

@Suite struct QueriesRouteTests {
    /// Every field of one `/queries` element, as the SPEC lists them.
    func expectStatusFields(_ object: [String: Any], _ status: QueryStatus) {
        #expect(object["name"] as? String == status.name)
        #expect(object["source"] as? String == status.source)
        #expect(object["events"] as? Int == status.events)
        #expect(object["filtered"] as? Int == status.filtered)
        #expect(object["late"] as? Int == status.late)
        #expect(object["rejected"] as? Int == status.rejected)
        #expect(object["rejectedBy"] as? [String: Int] == status.rejectedBy)
        #expect(object["partitions"] as? [Int] == status.partitions.map(Int.init))
        if let watermark = status.watermark {
            #expect((object["watermark"] as? NSNumber)?.int64Value == watermark)
        } else {
            #expect(object["watermark"] is NSNull)
        }
        if let checkpoint = status.lastCheckpoint {
            #expect((object["lastCheckpoint"] as? NSNumber)?.int64Value == checkpoint)
        } else {
            #expect(object["lastCheckpoint"] is NSNull)
        }
    }

    @Test func listsEveryDefinitionWithItsCounters() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries", method: .get) { response throws in
                #expect(response.status == .ok)
                let list = try #require(try parsedJSON(response) as? [[String: Any]])
                #expect(list.count == 2)
                expectStatusFields(list[0], .orders)
                expectStatusFields(list[1], .global)
                #expect(Set(list[0].keys) == [
                    "name", "source", "window", "watermark", "events", "filtered", "late", "rejected", "rejectedBy",
                    "lastCheckpoint", "partitions",
                ])
                // The window is embedded as a JSON object, not as a string holding JSON.
                let window = try #require(list[0]["window"] as? [String: String])
                #expect(window == ["type": "tumbling", "size": "1m", "grace": "0s"])
                #expect(text(response).contains(#""rejected":4,"rejectedBy":{"invalid_json":3,"missing_time":1}"#))
                #expect(text(response).contains(#""watermark":null"#))
            }
        }
    }

    @Test func noDefinitionsGiveAnEmptyList() async throws {
        var service = FakeQueryService()
        service.statuses = []
        try await makeApp(service).test(.router) { client in
            try await client.execute(uri: "/queries", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(text(response) == "[]")
            }
        }
    }

    @Test func oneDefinitionComesWithItsDefinitionEmbedded() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/orders_per_customer", method: .get) { response throws in
                #expect(response.status == .ok)
                let object = try jsonObject(response)
                expectStatusFields(object, .orders)
                let definition = try #require(object["definition"] as? [String: Any])
                #expect(definition["groupBy"] as? [String] == ["customer_id", "region"])
                #expect(object.count == 12)
            }
        }
    }

    @Test func unknownQueryIs404WithItsName() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/nope", method: .get) { response throws in
                #expect(response.status == .notFound)
                #expect(text(response) == #"{"error":"unknown query \"nope\""}"#)
            }
        }
    }

    @Test func percentEncodedQueryNameIsDecoded() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/queries/%67lobal", method: .get) { response throws in
                #expect(response.status == .ok)
                #expect(try jsonObject(response)["name"] as? String == "global")
            }
        }
    }
}
