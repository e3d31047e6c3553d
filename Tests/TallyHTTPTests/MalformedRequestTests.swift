import Foundation
import Logging
import ServiceLifecycle
import TallyHTTP
import Testing

/// Bytes that NIO's HTTP parser refuses, sent on a real socket: the answer is still the API's
/// JSON error with a 4xx status, and the server goes on serving.
@Suite struct MalformedRequestTests {
    static let requests: [(String, [UInt8])] = [
        ("not HTTP", Array("NOT HTTP AT ALL\r\n\r\n".utf8)),
        ("bad version", Array("GET /health HTTP/9.9\r\n\r\n".utf8)),
        ("100 KiB target", Array("GET /queries/\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
        ("100 KiB header", Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 100_000))\r\n\r\n".utf8)),
        ("negative length", Array("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".utf8)),
        ("NUL in the target", Array("GET /he".utf8) + [0] + Array("alth HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
        ("space in the target", Array("GET /queries/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)),
    ]

    /// `exchange` on a Dispatch thread: blocking socket calls must not hold one of the few
    /// cooperative threads that the server's own request handling needs.
    static func exchangeOffPool(_ bytes: [UInt8], port: Int) async -> String {
        await withCheckedContinuation { done in
            DispatchQueue.global().async { done.resume(returning: exchange(bytes, port: port)) }
        }
    }

    /// Sends `bytes` on a fresh connection and reads until the server closes it (or 10 s pass).
    static func exchange(_ bytes: [UInt8], port: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "" }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            answer += buffer[0..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    @Test func requestsTheParserRefusesGetAJSONError() async throws {
        try await withRunningServer { port in
            for (name, bytes) in Self.requests {
                let answer = await Self.exchangeOffPool(bytes, port: port)
                let parts = answer.components(separatedBy: "\r\n\r\n")
                let head = parts[0].lowercased()
                let status = Int(head.dropFirst("http/1.1 ".count).prefix(3)) ?? 0
                #expect((400..<500).contains(status), "\(name): \(head)")
                #expect(head.contains("content-type: application/json; charset=utf-8"), "\(name): \(head)")
                let body = parts.count > 1 ? parts[1] : ""
                let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                #expect(json?.count == 1 && json?["error"] is String, "\(name): \(body)")
            }
            let health = await Self.exchangeOffPool(Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), port: port)
            #expect(health.hasPrefix("HTTP/1.1 200"), "\(health)")
        }
    }
}
