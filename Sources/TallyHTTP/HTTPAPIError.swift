import Hummingbird
import Tally

/// Why the HTTP API refuses a request: a status (always 4xx for a client's mistake) and a message
/// that becomes the body `{"error":"…"}`. The module's one error type.
public struct HTTPAPIError: Error, Sendable, Equatable, HTTPResponseError, CustomStringConvertible {
    /// The response status.
    public var status: HTTPResponse.Status
    /// What is wrong, for the person who sent the request.
    public var message: String
    /// Extra response headers (`Allow` on a 405).
    public var headers: HTTPFields

    /// Makes one.
    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// The status and message.
    public var description: String { "\(status.code) \(message)" }

    /// `{"error":"…"}` with the status and headers.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse
    }

    /// `{"error":"…"}` with the status and headers, built without a request.
    public var jsonResponse: Response {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"error":"#.utf8)
        JSONWriter.appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        return JSONBody.response(out, status: status, headers: headers)
    }
}

extension HTTPAPIError {
    /// The HTTP form of an engine's refusal: 404 for an unknown query, 400 otherwise.
    public init(_ error: QueryError) {
        switch error {
        case .unknownQuery(let name):
            var quoted: [UInt8] = []
            JSONWriter.appendString(name, to: &quoted)
            self.init(.notFound, "unknown query \(String(decoding: quoted, as: UTF8.self))")
        case .wrongKeyArity(let expected, let got):
            self.init(.badRequest, "the query groups by \(expected) field(s); the URL gives \(got) key value(s)")
        case .badParameter(let why):
            self.init(.badRequest, why)
        case .unavailable(let why):
            self.init(.serviceUnavailable, why)
        }
    }
}
