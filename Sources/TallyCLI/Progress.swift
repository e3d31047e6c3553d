#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts produced events; redraws a progress line on stderr only when stderr is a terminal,
/// and always ends with a summary line there.
final class Progress {
    var count = 0
    private let topic: String
    private let started = ContinuousClock.now
    private var lastShown = ContinuousClock.now
    private let interactive = isatty(2) == 1

    init(topic: String) { self.topic = topic }

    /// Redraws the progress line, at most five times a second.
    func show() {
        guard interactive, ContinuousClock.now - lastShown > .milliseconds(200) else { return }
        lastShown = .now
        let rate = Int(Double(count) / max(seconds, 0.001))
        Self.writeStderr("\r\u{1B}[Kproducing to \(topic): \(count) events, \(rate)/s")
    }

    /// Prints `produced N events to T in X s`.
    func finish() {
        if interactive { Self.writeStderr("\r\u{1B}[K") }
        let hundredths = Int((seconds * 100).rounded())
        let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        Self.writeStderr("produced \(count) events to \(topic) in \(text) s\n")
    }

    private var seconds: Double {
        let (s, atto) = (ContinuousClock.now - started).components
        return Double(s) + Double(atto) / 1e18
    }

    private static func writeStderr(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
