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
