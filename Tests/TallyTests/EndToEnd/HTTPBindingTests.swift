import Foundation
import Testing

/// The HTTP API stays on the loopback interface unless `--http` says otherwise (README, SPEC §5).
@Suite(.serialized) struct HTTPBindingTests {
    /// The non-loopback IPv4 addresses of this machine.
    static func externalAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var out: [String] = []
        var cur = list
        while let p = cur {
            if let a = p.pointee.ifa_addr, a.pointee.sa_family == sa_family_t(AF_INET) {
                let sin = UnsafeRawPointer(a).assumingMemoryBound(to: sockaddr_in.self).pointee
                let ip = String(cString: inet_ntoa(sin.sin_addr))
                if !ip.hasPrefix("127.") { out.append(ip) }
            }
            cur = p.pointee.ifa_next
        }
        return out
    }

    /// Whether a TCP connection to `ip:port` is accepted.
    static func accepts(_ ip: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr(ip)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    @Test func theDefaultHTTPAddressIsLoopback() async throws {
        try await onOwnThread { try Self().theDefaultHTTPAddressIsLoopbackBody() }
    }

    func theDefaultHTTPAddressIsLoopbackBody() throws {
        let help = try TallyBinary.run(["run", "--help"])
        #expect(help.stdout.contains("(default: 127.0.0.1:8080)"), "\(help.stdout)")
    }

    @Test func theEngineAnswersOnLoopbackOnly() async throws {
        try await onOwnThread { try Self().theEngineAnswersOnLoopbackOnlyBody() }
    }

    func theEngineAnswersOnLoopbackOnlyBody() throws {
        let setup = try LiveEngineTests.Setup()
        let engine = try setup.engine("engine")
        try HTTPGet.waitReady("http://127.0.0.1:\(setup.http)/health")
        #expect(Self.accepts("127.0.0.1", setup.http))
        let others = Self.externalAddresses()
        for ip in others { #expect(!Self.accepts(ip, setup.http), "the API answers on \(ip)") }
        if others.isEmpty { print("HTTPBindingTests: no non-loopback IPv4 address here; only loopback was checked") }
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)
    }

    /// An HTTP address that is taken (another process listens there) stops `tally run` with the
    /// error, instead of an engine that runs on without its HTTP endpoint.
    @Test func anHTTPAddressInUseStopsTheEngineWithTheError() async throws {
        try await onOwnThread { try Self().anHTTPAddressInUseBody() }
    }

    func anHTTPAddressInUseBody() throws {
        let setup = try LiveEngineTests.Setup()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(setup.http).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(fd, 1) == 0)
        let engine = try setup.engine("engine")
        #expect(engine.wait(timeout: 60) == 1, "still running, or: \(engine.stderr.suffix(2000))")
        #expect(engine.stderr.contains("tally run:"), "\(engine.stderr.suffix(2000))")
    }
}
