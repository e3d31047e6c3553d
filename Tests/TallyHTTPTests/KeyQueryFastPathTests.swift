import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import TallyHTTP

/// Key queries answered on the event loop: the same answer as the route's, nothing passed on to
/// the router, and pipelined answers in request order.
@Suite struct KeyQueryFastPathTests {
    static let key = "/queries/orders_per_customer/keys/c%2F1/eu?from=2000"

    static func channel(_ service: FakeQueryService = FakeQueryService()) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            KeyQueryFastPath(service: service, limits: HTTPLimits(), serverName: "tally"))
        return channel
    }

    static func request(_ channel: EmbeddedChannel, _ target: String, headers: HTTPFields = [:]) throws {
        let head = HTTPRequest(method: .get, scheme: nil, authority: nil, path: target, headerFields: headers)
        try channel.writeInbound(HTTPRequestPart.head(head))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// The answer written to the client, or nil when none was.
    static func answer(_ channel: EmbeddedChannel) throws -> (head: HTTPResponse, body: String)? {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        guard case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self),
            case .end? = try channel.readOutbound(as: HTTPResponsePart.self)
        else {
            Issue.record("an answer without its body and end")
            return nil
        }
        return (head, String(buffer: body))
    }

    /// The request parts the router got.
    static func passedOn(_ channel: EmbeddedChannel) throws -> [String] {
        var targets: [String] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            if case .head(let head) = part { targets.append(head.path ?? "") }
        }
        return targets
    }

    @Test func aKeyQueryIsAnsweredWithTheRoutesBytesWithoutReachingTheRouter() async throws {
        let channel = try Self.channel()
        try Self.request(channel, Self.key)
        let answer = try #require(try Self.answer(channel))
        #expect(try Self.passedOn(channel).isEmpty)
        #expect(answer.head.status == .ok)
        #expect(answer.head.headerFields[.contentType] == "application/json; charset=utf-8")
        #expect(answer.head.headerFields[.contentLength] == String(answer.body.utf8.count))
        #expect(answer.head.headerFields[.server] == "tally")
        let date = try #require(answer.head.headerFields[.date])
        #expect(date.hasSuffix(" GMT") && date.count == 29, "IMF-fixdate: \(date)")

        try await makeApp().test(.router) { client in
            try await client.execute(uri: Self.key, method: .get) { routed in
                #expect(routed.status == .ok)
                #expect(String(buffer: routed.body) == answer.body)
            }
        }
        #expect(answer.body.contains(#""key":{"k1":"c/1","k2":"eu"}"#))
        #expect(!answer.body.contains(#""start":1000"#), "from=2000 leaves the first window out")
    }

    @Test(arguments: [
        ("/queries/nope/keys/a/b", false),  // an error: the route's JSON 404
        ("/queries/orders_per_customer/keys/a", false),  // wrong arity: 400
        ("/queries/orders_per_customer/keys/a/b?from=x", false),  // a bad bound: 400
        ("/queries/orders_per_customer/keys/%zz/b", false),  // bad percent-encoding: 400
        ("/queries/orders_per_customer", false),  // another route
        ("/queries//keys/a/b", false),  // no name: the router's own 404
        ("/queries/orders_per_customer/keys/a/b", true),  // `Connection: close`: the router closes it
    ])
    func anythingButAPlainSuccessGoesToTheRouter(_ target: String, _ closes: Bool) throws {
        let channel = try Self.channel()
        try Self.request(channel, target, headers: closes ? [.connection: "close"] : [:])
        #expect(try Self.answer(channel) == nil)
        #expect(try Self.passedOn(channel) == [target])
    }

    @Test func aHeadRequestGoesToTheRouter() throws {
        let channel = try Self.channel()
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .head, scheme: nil, authority: nil, path: Self.key)))
        #expect(try Self.answer(channel) == nil)
        #expect(try Self.passedOn(channel) == [Self.key])
    }

    @Test func whileTheRouterAnswersEarlierRequestsKeyQueriesWaitTheirTurn() throws {
        let channel = try Self.channel()
        try Self.request(channel, "/metrics")
        try Self.request(channel, Self.key)  // pipelined behind /metrics: the router's turn
        #expect(try Self.answer(channel) == nil)
        #expect(try Self.passedOn(channel) == ["/metrics", Self.key])
        // The router answers the first; the second is still its own.
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        try Self.request(channel, Self.key)
        #expect(try Self.passedOn(channel) == [Self.key])
        // Both answered: the next key query is answered here again.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        try Self.request(channel, Self.key)
        #expect(try Self.answer(channel)?.head.status == .ok)
        #expect(try Self.passedOn(channel).isEmpty)
    }

    @Test func aClientThatDoesNotReadItsAnswersIsLeftToTheRoutersBackpressure() throws {
        let channel = try Self.channel()
        channel.isWritable = false
        try Self.request(channel, Self.key)
        #expect(try Self.answer(channel) == nil)
        #expect(try Self.passedOn(channel) == [Self.key])
    }

    @Test func onAScaleOutInstanceOnlyKeysItHoldsAreAnsweredHere() throws {
        var service = FakeQueryService()
        service.own = "127.0.0.1:9001"
        let holding = try Self.channel(service)
        try Self.request(holding, Self.key)
        #expect(try Self.answer(holding)?.head.headerFields[QueryRoutes.ownerHeader] == "127.0.0.1:9001")

        service.windowList = []  // maybe another instance's key: the route asks the peers
        let empty = try Self.channel(service)
        try Self.request(empty, Self.key)
        #expect(try Self.answer(empty) == nil)
        #expect(try Self.passedOn(empty) == [Self.key])
    }

    @Test func dateIsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(1_795_823_400) == "Fri, 27 Nov 2026 23:50:00 GMT")
        #expect(HTTPDate.format(1_709_164_805) == "Thu, 29 Feb 2024 00:00:05 GMT")
    }

    /// On a real socket, one write of five pipelined requests, some answered by the router and
    /// some here: five answers, in request order.
    @Test func pipelinedRequestsAreAnsweredInOrderOnARealSocket() async throws {
        try await withRunningServer { port in
            let targets = [
                "/queries", "/queries/orders_per_customer/keys/a/b", "/queries/orders_per_customer/keys/c/d",
                "/queries/nope/keys/x", "/queries/orders_per_customer/keys/e/f",
            ]
            var bytes: [UInt8] = []
            for (i, target) in targets.enumerated() {
                let close = i == targets.count - 1 ? "Connection: close\r\n" : ""
                bytes += Array("GET \(target) HTTP/1.1\r\nHost: x\r\n\(close)\r\n".utf8)
            }
            let answer = await MalformedRequestTests.exchangeOffPool(bytes, port: port)
            let statuses = answer.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            #expect(statuses == ["200", "200", "200", "404", "200"], "\(answer)")
            let order = [#"[{"name":"orders_per_customer""#, #""k1":"a","k2":"b""#, #""k1":"c","k2":"d""#, "unknown query", #""k1":"e","k2":"f""#]
            let positions = order.map { answer.range(of: $0)?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil }, "\(answer)")
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "answers out of order: \(answer)")
        }
    }
}
