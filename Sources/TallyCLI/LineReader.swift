#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor in large chunks and hands out its lines in place (no copy per line;
/// a trailing `\r` is dropped).
struct LineReader {
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false

    init(fd: Int32, chunk: Int = 1 << 20) {
        self.fd = fd
        buffer = .allocate(byteCount: chunk, alignment: 1)
    }

    /// Frees the buffer; the reader is unusable afterwards.
    func close() { buffer.deallocate() }

    /// Calls `body` with each line; the bytes are valid only during the call.
    mutating func forEachLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let view = UnsafeRawBufferPointer(buffer)
            if let nl = view[start..<end].firstIndex(of: 10) {
                var stop = nl
                if stop > start && view[stop - 1] == 13 { stop -= 1 }
                try body(UnsafeRawBufferPointer(rebasing: view[start..<stop]))
                start = nl + 1
                continue
            }
            if eof {
                if start < end { try body(UnsafeRawBufferPointer(rebasing: view[start..<end])) }
                return
            }
            try refill()
        }
    }

    private mutating func refill() throws {
        if start > 0 {
            buffer.baseAddress!.copyMemory(
                from: buffer.baseAddress! + start, byteCount: end - start)
            end -= start
            start = 0
        }
        if end == buffer.count {  // a line longer than the buffer: grow
            let bigger = UnsafeMutableRawBufferPointer.allocate(
                byteCount: buffer.count * 2, alignment: 1)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let n = read(fd, buffer.baseAddress! + end, buffer.count - end)
        if n < 0 {
            if errno == EINTR { return }
            throw CLIError("read failed: \(String(cString: strerror(errno)))")
        }
        if n == 0 { eof = true } else { end += n }
    }
}
