#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread-safe counter that tells the last of several finishers that it was last.
final class Countdown: @unchecked Sendable {
    // Safe: `value` is only touched under `lock`.
    private let lock = Lock()
    private var value: Int

    init(_ value: Int) { self.value = value }

    /// Decrements and returns the new value.
    func decrement() -> Int {
        lock.withLock {
            value -= 1
            return value
        }
    }
}
