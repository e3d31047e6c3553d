#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor as lines without copying each line: large reads into one buffer,
/// each complete line handed out as a view into it. `\r\n` endings lose their `\r`.
///
/// A regular file is mapped instead of read (the kernel's copy into the buffer was ~10% of
/// `tally test`), and the pages already read are given back as it goes, so the mapping does not
/// add the file's size to the process's resident memory.
public final class LineReader {
    let fd: Int32
    var buffer: UnsafeMutableRawPointer
    var capacity: Int
    var start = 0, end = 0
    var eof = false

    /// A reader over `fd` (not closed by the reader).
    public init(fd: Int32, capacity: Int = 1 << 20) {
        self.fd = fd
        self.capacity = capacity
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with each line until the input ends; a read error throws.
    public func forEachLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if try forEachMappedLine(body) { return }
        while true {
            if let nl = memchr(buffer + start, 0x0A, end - start) {
                let lineEnd = buffer.distance(to: nl)
                var stop = lineEnd
                if stop > start && buffer.load(fromByteOffset: stop - 1, as: UInt8.self) == 0x0D { stop -= 1 }
                try body(UnsafeRawBufferPointer(start: buffer + start, count: stop - start))
                start = lineEnd + 1
                continue
            }
            if eof {
                if end > start { try body(UnsafeRawBufferPointer(start: buffer + start, count: end - start)) }
                return
            }
            try fill()
        }
    }

    /// Bytes read between two returns of pages to the kernel.
    static let releaseStep = 1 << 20

    /// `forEachLine` over a mapping of the rest of a regular file; false (nothing read) when
    /// `fd` is not one, or is empty from here, or cannot be mapped.
    func forEachMappedLine(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        let offset = Int(lseek(fd, 0, SEEK_CUR))
        let size = Int(st.st_size)
        guard offset >= 0, size > offset,
            let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED
        else { return false }
        defer { munmap(map, size) }
        _ = madvise(map, size, MADV_SEQUENTIAL)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var released = 0  // bytes before this have been given back
        var start = offset
        while start < size {
            let nl = memchr(map + start, 0x0A, size - start)
            let lineEnd = nl.map { map.distance(to: $0) } ?? size
            var stop = lineEnd
            if stop > start && map.load(fromByteOffset: stop - 1, as: UInt8.self) == 0x0D { stop -= 1 }
            try body(UnsafeRawBufferPointer(start: map + start, count: stop - start))
            start = lineEnd + 1
            if start - released >= Self.releaseStep {
                let upTo = min(start, size) / page * page
                _ = madvise(map + released, upTo - released, MADV_DONTNEED)
                released = upTo
            }
        }
        _ = lseek(fd, 0, SEEK_END)
        return true
    }

    func fill() throws {
        if start > 0 {
            memmove(buffer, buffer + start, end - start)
            end -= start
            start = 0
        }
        if end == capacity {  // one line longer than the buffer: grow
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: capacity * 2, alignment: 16)
            bigger.copyMemory(from: buffer, byteCount: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        let n = read(fd, buffer + end, capacity - end)
        if n < 0 {
            if errno == EINTR { return }
            throw OfflineError("read failed: \(String(cString: strerror(errno)))")
        }
        if n == 0 { eof = true } else { end += n }
    }
}

/// Buffered writes to a file descriptor.
public final class OutputWriter {
    let fd: Int32
    /// Pending bytes; append freely, `flushIfFull()` writes them out past 64 KiB.
    public var buffer: [UInt8] = []

    /// A writer to `fd`.
    public init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 17)
    }

    /// Writes out when more than 64 KiB are pending.
    @inline(__always) public func flushIfFull() throws {
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes everything pending.
    public func flush() throws {
        var offset = 0
        try buffer.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OfflineError("write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// An error of the offline runner: reading input or writing output.
public struct OfflineError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Makes one.
    public init(_ message: String) { description = message }
}
