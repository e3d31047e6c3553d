import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Tally

/// Answers a request that NIO's HTTP parser refuses with the API's JSON error, then closes the
/// connection. Without it Hummingbird answers an empty `400` — for instance to a request target
/// longer than the parser's 80 KiB limit on a request line, though the API promises a JSON `414`
/// for every target beyond `HTTPLimits.maxURILength`. Sits right after the HTTP codec.
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        // The parser's only size limit covers the request line and the headers: in a GET-only
        // API that is almost always a huge target.
        let (status, message): (HTTPResponse.Status, String) =
            parseError == .headerOverflow
            ? (.uriTooLong, "the request target or headers exceed the HTTP parser's limit (80 KiB)")
            : (.badRequest, "malformed HTTP request (\(parseError))")
        var body: [UInt8] = Array(#"{"error":"#.utf8)
        JSONWriter.appendString(message, to: &body)
        body.append(UInt8(ascii: "}"))
        let head = HTTPResponse(
            status: status,
            headerFields: [.contentType: JSONBody.contentType, .contentLength: String(body.count), .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
