#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain HTTP/1.1 client of a local port, enough to read Tally's own API: one request at a
/// time over a kept-alive connection (reopened when the server closes it).
final class LocalHTTP {
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    /// What one `recv` reads into, kept from call to call.
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(port: Int) { self.port = port }
    deinit { if fd >= 0 { close(fd) } }

    /// The status and body of `GET path` on `port`, on a connection of its own; nil when
    /// nothing answers.
    static func get(port: Int, path: String) -> (status: Int, body: [UInt8])? {
        LocalHTTP(port: port).get(path)
    }

    /// The status and body of `GET path`; nil when nothing answers.
    func get(_ path: String) -> (status: Int, body: [UInt8])? {
        for attempt in 0..<2 {
            if fd < 0 && !connectLocal() { return nil }
            if let r = exchange(path) { return r }
            close(fd)
            fd = -1
            if attempt == 1 { return nil }
        }
        return nil
    }

    private func connectLocal() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            close(fd)
            fd = -1
            return false
        }
        buffer.removeAll()
        return true
    }

    /// One request and its response; nil when the connection failed or closed.
    private func exchange(_ path: String) -> (status: Int, body: [UInt8])? {
        var request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, &request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while true {
            if headerEnd == nil {
                headerEnd = buffer.indices.first { buffer[$0...].starts(with: separator) }
            }
            if let end = headerEnd, let head = Self.head(buffer[..<end]) {
                if let length = head.contentLength, buffer.count >= end + 4 + length {
                    let body = Array(buffer[(end + 4)..<(end + 4 + length)])
                    buffer.removeFirst(end + 4 + length)
                    return (head.status, body)
                }
                if head.contentLength == nil && head.chunked, let body = Self.dechunk(buffer[(end + 4)...]) {
                    buffer.removeAll()
                    return (head.status, body)
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }

    private static func head(_ bytes: ArraySlice<UInt8>) -> (status: Int, contentLength: Int?, chunked: Bool)? {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n")
        guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        var length: Int?
        var chunked = false
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = parts[1].trimmingPrefix(" ")
            if name == "content-length" { length = Int(value) }
            if name == "transfer-encoding" && value.lowercased().hasPrefix("chunked") { chunked = true }
        }
        return (status, length, chunked)
    }

    /// The body of a complete chunked message, or nil while it is incomplete.
    private static func dechunk(_ data: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = data.startIndex
        while i < data.endIndex {
            var j = i
            while j + 1 < data.endIndex && !(data[j] == 13 && data[j + 1] == 10) { j += 1 }
            guard j + 1 < data.endIndex,
                let size = Int(String(decoding: data[i..<j], as: UTF8.self).split(separator: ";").first ?? "", radix: 16)
            else { return nil }
            if size == 0 { return out }
            guard j + 2 + size + 2 <= data.endIndex else { return nil }
            out += data[(j + 2)..<(j + 2 + size)]
            i = j + 2 + size + 2
        }
        return nil
    }
}
