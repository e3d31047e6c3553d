#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Relays every TCP connection accepted on `127.0.0.1:port` to a target address, byte for byte.
///
/// Exists because librdkafka's mock broker cannot listen on a chosen port (see `MockCluster`).
/// Two blocking pump threads per connection keep it simple; the traffic is only bootstrap
/// metadata, since clients then connect to the broker's advertised address directly.
///
/// Safe to share (`@unchecked Sendable`): the mutable connection set is guarded by `lock`;
/// sockets are only used through thread-safe system calls.
final class PortForwarder: @unchecked Sendable {
    /// The port actually listened on (the requested one, or the kernel's pick for 0).
    let port: Int
    private let listener: Int32
    private let target: sockaddr_in
    private let lock = Lock()
    private var connections: Set<Int32> = []
    private var stopped = false

    init(port: Int, target: (host: String, port: Int)) throws {
        let operation = "listen on 127.0.0.1:\(port)"
        self.target = try Self.address(target.host, target.port, operation)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Self.systemError(operation) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = try Self.address("127.0.0.1", port, operation)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0
                    && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            let error = Self.systemError(operation)
            close(fd)
            throw error
        }
        listener = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
        Self.startThread { [self] in acceptLoop() }
    }

    /// Stops accepting and cuts every open connection.
    func stop() {
        lock.withLock {
            stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            guard let upstream = connectTarget(), register(client, upstream) else {
                close(client)
                continue
            }
            let remaining = Countdown(2)
            for (from, to) in [(client, upstream), (upstream, client)] {
                Self.startThread { [self] in
                    Self.pump(from: from, to: to)
                    if remaining.decrement() == 0 { unregisterAndClose(client, upstream) }
                }
            }
        }
        close(listener)
    }

    private func connectTarget() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = target
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if !ok { close(fd) }
        return ok ? fd : nil
    }

    private func register(_ a: Int32, _ b: Int32) -> Bool {
        lock.withLock {
            if stopped {
                close(b)
                return false
            }
            connections.formUnion([a, b])
            return true
        }
    }

    private func unregisterAndClose(_ a: Int32, _ b: Int32) {
        lock.withLock {
            connections.subtract([a, b])
            close(a)
            close(b)
        }
    }

    /// Copies bytes until either side closes, then half-closes the destination.
    private static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            var sent = 0
            while sent < n {
                let m = buffer.withUnsafeBytes {
                    send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL))
                }
                if m < 0 && errno == EINTR { continue }
                if m <= 0 { break loop }
                sent += m
            }
        }
        shutdown(to, Int32(SHUT_WR))
        shutdown(from, Int32(SHUT_RD))
    }
}
