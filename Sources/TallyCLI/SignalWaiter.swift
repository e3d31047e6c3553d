#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocks until SIGINT or SIGTERM arrives, by the self-pipe trick: the handler only writes a
/// byte (async-signal-safe), and the waiting thread reads it. Works whichever thread the kernel
/// picks to run the handler, unlike `sigwait`, which needs the signals blocked in every thread
/// (and the Swift runtime and librdkafka start threads of their own).
enum SignalWaiter {
    /// The write end of the pipe; set once before the handlers are installed, then only read.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1
    nonisolated(unsafe) private static var readEnd: Int32 = -1

    /// Installs the handlers; call before starting work so no signal is missed.
    static func install() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        readEnd = fds[0]
        writeEnd = fds[1]
        for signo in [SIGINT, SIGTERM] {
            signal(signo) { _ in
                var byte: UInt8 = 1
                _ = write(SignalWaiter.writeEnd, &byte, 1)
            }
        }
    }

    /// Waits for the first SIGINT or SIGTERM after `install()`.
    static func wait() {
        var byte: UInt8 = 0
        while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
    }
}
