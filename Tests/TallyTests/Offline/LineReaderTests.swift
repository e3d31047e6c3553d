import Foundation
import Testing
@testable import Tally

/// `LineReader` hands out the same lines whether it maps a file or reads a pipe: `\r\n` and `\n`
/// endings, empty lines, a last line without a newline, lines longer than its buffer, and a file
/// larger than the span after which mapped pages are given back.
@Suite struct LineReaderTests {
    static func lines(of fd: Int32) throws -> [String] {
        var out: [String] = []
        try LineReader(fd: fd, capacity: 4096).forEachLine { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    static func sample() -> (text: String, lines: [String]) {
        var lines = ["first", "", "crlf ending", "x", String(repeating: "long ", count: 3000)]
        for i in 0..<(9 << 20) / 40 { lines.append("{\"n\":\(i),\"pad\":\"\(String(repeating: "p", count: 20))\"}") }
        lines.append("last, no newline")
        var text = ""
        for (i, l) in lines.enumerated() {
            text += l
            if i < lines.count - 1 { text += i == 2 ? "\r\n" : "\n" }
        }
        return (text, lines)
    }

    @Test func aMappedFileAndAPipeGiveTheSameLines() throws {
        let (text, expected) = Self.sample()
        #expect(text.utf8.count > LineReader.releaseStep)
        let dir = try TemporaryFolder("tally-lines")
        let path = dir.url.appendingPathComponent("in.jsonl").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)

        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(try Self.lines(of: fd) == expected)

        var pipeFDs: [Int32] = [0, 0]
        #expect(pipe(&pipeFDs) == 0)
        let writeEnd = pipeFDs[1]
        let writer = Thread {
            let bytes = Array(text.utf8)
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) }
                if n <= 0 { break }
                off += n
            }
            close(writeEnd)
        }
        writer.start()
        defer { close(pipeFDs[0]) }
        #expect(try Self.lines(of: pipeFDs[0]) == expected)
    }

    @Test func anEmptyFileHasNoLines() throws {
        let dir = try TemporaryFolder("tally-lines-empty")
        let path = dir.url.appendingPathComponent("empty").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        #expect(try Self.lines(of: fd).isEmpty)
    }
}
