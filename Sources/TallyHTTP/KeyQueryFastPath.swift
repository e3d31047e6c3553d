import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers `GET /queries/{name}/keys/…` on the connection's event loop thread, as soon as the
/// request is parsed. Hummingbird runs every handler as a task on Swift's cooperative threads: a
/// request crosses from the event loop to a task and its answer back, two thread wake-ups that
/// under load were a large part of a key query's time (~0.7 ms on two busy cores; ~0.45 ms when
/// answered here). Hummingbird 2.28 and NIO 2.101 offer no way to run a handler on the event loop
/// (no task executor preference there), so the one request that is asked in a loop — a key — is
/// answered by this channel handler instead: a short read of the engine's state under its lock,
/// with the same bytes the route would write (`KeyWindows.json`, content type, `Date`, `Server`).
///
/// Only a plain success is answered here: anything else — another method or path, an error, a key
/// with no windows on a scale-out instance (the route asks the peers), a `Connection` header — goes
/// on to the router unchanged, which answers it as before. While a request the router took is not
/// answered yet, the next ones go there too, so pipelined answers keep their order; and while the
/// connection is not writable (a client that pipelines without reading), so that the router's
/// backpressure bounds what waits to be sent.
final class KeyQueryFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let service: any QueryService
    private let limits: HTTPLimits
    private let serverName: String
    /// Requests passed on whose answer has not ended yet.
    private var passedOn = 0
    /// The parts after the head of a request answered here are dropped until its end.
    private var dropping = false
    private var date = HTTPDate()

    init(service: any QueryService, limits: HTTPLimits, serverName: String) {
        self.service = service
        self.limits = limits
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            // Not writable: the client does not read its answers; the router's writer waits for it.
            if passedOn == 0, context.channel.isWritable, let response = answer(request) {
                dropping = true
                context.write(wrapOutboundOut(.head(response.head)), promise: nil)
                context.write(wrapOutboundOut(.body(response.body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            passedOn += 1
        case .body:
            if dropping { return }
        case .end:
            if dropping {
                dropping = false
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    /// The answer to `request` when it is a key query this instance answers alone, else nil.
    func answer(_ request: HTTPRequest) -> (head: HTTPResponse, body: ByteBuffer)? {
        guard request.method == .get, request.headerFields[.connection] == nil,
            let target = request.path, target.utf8.count <= limits.maxURILength, target.hasPrefix("/queries/")
        else { return nil }
        let path: Substring
        let query: Substring?
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = target[target.index(after: mark)...]
        } else {
            path = target[...]
            query = nil
        }
        guard let asked = try? KeyRequest(path: String(path), query: query.map(String.init), limits: limits),
            !asked.query.isEmpty,
            case .success(let windows) = service.windows(query: asked.query, key: asked.key, from: asked.from, to: asked.to)
        else { return nil }
        // Scale-out: an empty answer may be another instance's key; the route asks them.
        guard let (body, ownHeaders) = QueryRoutes.ownAnswer(windows, ownAddress: service.ownAddress) else { return nil }
        var headers = ownHeaders
        headers[.contentType] = JSONBody.contentType
        headers[.date] = date.now()
        headers[.server] = serverName
        headers[.contentLength] = String(body.count)
        return (HTTPResponse(status: .ok, headerFields: headers), ByteBuffer(bytes: body))
    }
}

/// The `Date` header's text (RFC 9110 IMF-fixdate), made again at most once a second.
struct HTTPDate {
    private var second = -1
    private var text = ""

    /// The current time's text.
    mutating func now() -> String {
        let seconds = time(nil)
        if seconds != second {
            second = seconds
            text = Self.format(seconds)
        }
        return text
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for `seconds` since the epoch.
    static func format(_ seconds: Int) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
