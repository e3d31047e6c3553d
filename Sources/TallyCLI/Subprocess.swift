#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process of this same executable (`tally bench` runs `tally run` and `tally --help`
/// as a user would), with its output in a file, and its peak memory.
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

    /// Waits for the process to end; returns its exit code (128 + signal when killed) and, with
    /// `samplingPeak`, its peak resident memory in bytes (0 without). The peak is the child's own
    /// high-water mark (`VmHWM`), read every 5 ms until it ends: the kernel's `ru_maxrss` for a
    /// child also counts this process's memory, which the child shared until its `exec` (a bench
    /// hosting the broker made a 230 MB child look like 630 MB).
    @discardableResult
    func wait(samplingPeak: Bool = false) -> (status: Int32, peakRSS: Int) {
        var status: Int32 = 0
        var peak = 0
        if samplingPeak {
            while true {
                peak = max(peak, Self.highWaterMark(of: pid))
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno != EINTR) { break }
                usleep(5_000)
            }
        } else {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let signal = status & 0x7F
        return (signal == 0 ? (status >> 8) & 0xFF : 128 + signal, peak)
    }

    /// `VmHWM` of process `pid` in bytes, 0 when it cannot be read (the process has ended).
    static func highWaterMark(of pid: pid_t) -> Int {
        guard let file = fopen("/proc/\(pid)/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("VmHWM:") {
                let kb = text.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Int($0) }
                return (kb ?? 0) * 1024
            }
        }
        return 0
    }
}
