import ServiceLifecycle
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the engine's blocking loop on a thread of its own, as a service: graceful shutdown
/// (SIGTERM/SIGINT) asks the loop to stop, which ends with a final checkpoint.
struct EngineService: Service {
    let engine: Engine

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await onThread { try engine.run() }
        } onGracefulShutdown: {
            engine.stop()
        }
    }
}

/// Runs `body` on a new OS thread (blocking C calls stay off Swift's cooperative pool).
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        final class Box: @unchecked Sendable {
            // Safe: written once before the thread starts, read once by it.
            let work: () -> Void
            init(_ work: @escaping () -> Void) { self.work = work }
        }
        let box = Box {
            do { try body(); continuation.resume() } catch { continuation.resume(throwing: error) }
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(box).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.work()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            continuation.resume(throwing: EngineError("cannot start the engine thread (error \(rc))"))
        } else {
            pthread_detach(thread)
        }
    }
}
