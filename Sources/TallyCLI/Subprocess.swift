#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process of this same executable (`tally bench` runs `tally run` and `tally --help`
/// as a user would), with its output in a file, and its peak memory once it has ended.
final class Subprocess {
    let pid: pid_t

    /// The path of the running executable.
    static let executable: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }()

    /// Starts this executable with `arguments`, stdout and stderr going to `output` (appended).
    init(_ arguments: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([Self.executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, Self.executable, &actions, nil, argv, environ)
        guard rc == 0 else { throw CLIError("cannot start \(Self.executable): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Asks the process to stop (SIGTERM: a graceful shutdown).
    func terminate() { kill(pid, SIGTERM) }

    /// Waits for the process to end; returns its exit code (128 + signal when killed) and
    /// its peak resident memory in bytes.
    @discardableResult
    func wait() -> (status: Int32, peakRSS: Int) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return (signal == 0 ? (status >> 8) & 0xFF : 128 + signal, usage.ru_maxrss * 1024)
    }
}

/// A plain HTTP/1.1 GET to a local port, enough to read Tally's own API.
enum LocalHTTP {
    /// The status and body of `GET path`, or nil when nothing answers.
    static func get(port: Int, path: String) -> (status: Int, body: [UInt8])? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, &request, request.count, 0) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            response += chunk[..<n]
        }
        return parse(response)
    }

    /// Splits a response into status and body (plain or chunked).
    static func parse(_ response: [UInt8]) -> (status: Int, body: [UInt8])? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = response.indices.first(where: { response[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: response[..<headerEnd], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        var body = Array(response[(headerEnd + 4)...])
        if lines.contains(where: { $0.lowercased().hasPrefix("transfer-encoding:") && $0.lowercased().contains("chunked") }) {
            body = dechunk(body)
        }
        return (status, body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < data.count {
            var j = i
            while j + 1 < data.count && !(data[j] == 13 && data[j + 1] == 10) { j += 1 }
            guard let size = Int(String(decoding: data[i..<j], as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
                size > 0, j + 2 + size <= data.count
            else { break }
            out += data[(j + 2)..<(j + 2 + size)]
            i = j + 2 + size + 2
        }
        return out
    }
}
