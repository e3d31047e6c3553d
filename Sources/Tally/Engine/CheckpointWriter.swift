import Dispatch
import Synchronization

/// Runs each checkpoint's synced RocksDB write, and what must follow it (the Kafka commit),
/// off the loop's thread, one at a time and in order: the loop goes on processing while the
/// write reaches the disk (~100 ms for a second of a 500k events/s backlog). A checkpoint first
/// waits for the previous one's write, so at most one is in flight; a failed write stops the
/// engine at the next checkpoint (or at stop), and nothing after it is written.
final class CheckpointWriter: Sendable {
    private let queue = DispatchQueue(label: "tally-checkpoint")
    private let group = DispatchGroup()
    private let failure = Mutex<(any Error)?>(nil)

    /// Queues `work` after the writes already queued.
    func submit(_ work: @escaping @Sendable () throws -> Void) {
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            guard failure.withLock({ $0 == nil }) else { return }
            do { try work() } catch { failure.withLock { $0 = error } }
        }
    }

    /// Waits until every queued write is done; throws the first failure.
    func wait() throws {
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
