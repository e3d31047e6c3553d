import Hummingbird
import Tally

/// Turns JSON text into a response; every answer of the API, errors included, goes through here so
/// they all carry the same content type.
enum JSONBody {
    /// The content type of every JSON answer.
    static let contentType = "application/json; charset=utf-8"

    /// A response with `bytes` as its JSON body.
    static func response(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Appends `"name":` (with a leading comma unless it is the first member).
    static func appendKey(_ name: String, first: Bool = false, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: name.utf8)  // member names here are ASCII literals
        out.append(contentsOf: "\":".utf8)
    }

    /// Appends JSON text that the engine produced, as it is; an empty text becomes `null` so the
    /// answer stays valid JSON.
    static func appendRaw(_ json: String, to out: inout [UInt8]) {
        if json.isEmpty { out.append(contentsOf: "null".utf8) } else { out.append(contentsOf: json.utf8) }
    }

    /// Appends `[{…},{…}]`: one object per item, whose members `members` appends (the first
    /// one with `appendKey(_:first: true, to:)`).
    static func appendObjects<T>(_ items: [T], to out: inout [UInt8], _ members: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            members(item, &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends an integer or `null`.
    static func appendOptional(_ value: Int64?, to out: inout [UInt8]) {
        if let value { JSONWriter.appendInt(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }
}
