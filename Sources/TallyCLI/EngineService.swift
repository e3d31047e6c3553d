import ServiceLifecycle
import Tally

/// Runs the engine's blocking loop on a thread of its own, as a service: graceful shutdown
/// (SIGTERM/SIGINT) asks the loop to stop, which ends with a final checkpoint. So does
/// cancellation, which the service group sends when another service fails (the HTTP server
/// cannot bind its address): the process then exits with that error instead of running on
/// without its HTTP endpoint.
struct EngineService: Service {
    let engine: Engine

    func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await onThread { try engine.run() }
            } onGracefulShutdown: {
                engine.stop()
            }
        } onCancel: {
            engine.stop()
        }
    }
}

/// Runs `body` on a new OS thread (blocking C calls stay off Swift's cooperative pool).
func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        let rc = OSThread.start(name: "tally-engine") {
            do { try body(); continuation.resume() } catch { continuation.resume(throwing: error) }
        }
        if rc != 0 { continuation.resume(throwing: EngineError("cannot start the engine thread (error \(rc))")) }
    }
}
