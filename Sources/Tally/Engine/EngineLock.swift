import Synchronization

/// The lock around the engine's state: the loop holds it while it processes a batch, HTTP
/// handlers while they read, so answers see every processed event and never a half-done batch.
final class EngineLock: Sendable {
    private let mutex = Mutex(())

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}
