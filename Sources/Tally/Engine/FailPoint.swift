#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash points for fault-injection tests: with `TALLY_FAILPOINT=NAME:N` in the environment the
/// process kills itself with SIGKILL the N-th time it reaches the point NAME (N defaults to 1),
/// exactly as a `kill -9` at that moment would. Unset, a point costs one load and compare.
///
/// Points, in the order the engine reaches them: `startup` (state open, nothing restored),
/// `restored` (state read back, partitions not yet assigned), `polled` (a batch polled, not yet
/// processed), `emitted` (results handed to the producer, not yet flushed), `checkpoint.flushed`
/// (producer flushed with results in flight, RocksDB batch not yet written), `checkpoint.written` (batch written and
/// synced, Kafka commit not yet sent), `checkpoint.committed` (Kafka commit sent).
public enum FailPoint {
    struct Armed {
        var name: String
        var remaining: Int
    }

    nonisolated(unsafe) static var armed: Armed? = parse(getenv("TALLY_FAILPOINT").map { String(cString: $0) })

    static func parse(_ text: String?) -> Armed? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        return Armed(name: String(parts[0]), remaining: parts.count > 1 ? max(1, Int(parts[1]) ?? 1) : 1)
    }

    /// Kills the process if `name` is the armed point and this is its N-th hit. Call from the
    /// engine's loop thread only.
    @inline(__always)
    public static func hit(_ name: StaticString) {
        guard armed != nil else { return }
        slowHit(name)
    }

    static func slowHit(_ name: StaticString) {
        guard var a = armed, a.name == name.description else { return }
        a.remaining -= 1
        armed = a
        if a.remaining == 0 {
            let line = Array("tally: failpoint \(a.name) reached: SIGKILL\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            kill(getpid(), SIGKILL)
        }
    }
}
