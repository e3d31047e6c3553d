#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Folders a command creates for itself under /tmp and removes when done.
enum TemporaryFolder {
    /// A new empty folder `/tmp/<prefix>.XXXXXX`.
    static func make(_ prefix: String) throws -> String {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CLIError("cannot create a folder in /tmp: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    /// Removes `path` and everything under it.
    static func remove(_ path: String) {
        // The folder holds only what the command wrote: files, and RocksDB folders of files.
        guard let dir = opendir(path) else { unlink(path); return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            remove(path + "/" + name)
        }
        closedir(dir)
        rmdir(path)
    }
}
