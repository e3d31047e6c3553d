#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads definitions from files and folders (a folder means its `*.json` files, sorted), checking
/// every file and that names are unique across them.
public enum DefinitionLoader {
    /// Every definition under `paths`, or every problem found.
    public static func load(_ paths: [String]) -> Result<[Definition], DefinitionErrors> {
        var problems: [DefinitionProblem] = []
        var definitions: [(Definition, String)] = []
        for file in expand(paths, problems: &problems) {
            guard let bytes = readFile(file) else {
                problems.append(DefinitionProblem(file: file, path: "$", problem: "cannot be read", expected: "a readable JSON file"))
                continue
            }
            switch DefinitionParser.parse(bytes, file: file) {
            case .success(let d):
                if let other = definitions.first(where: { $0.0.name == d.name }) {
                    problems.append(DefinitionProblem(file: file, path: "$.name", problem: "\"\(d.name)\" is already defined in \(other.1)", expected: "a name unique among loaded definitions"))
                } else {
                    definitions.append((d, file))
                }
            case .failure(let e): problems += e.problems
            }
        }
        return problems.isEmpty ? .success(definitions.map(\.0)) : .failure(DefinitionErrors(problems: problems))
    }

    /// Files named by `paths`: files as given, folders as their sorted `*.json` entries.
    static func expand(_ paths: [String], problems: inout [DefinitionProblem]) -> [String] {
        var files: [String] = []
        for path in paths {
            var st = stat()
            guard stat(path, &st) == 0 else {
                problems.append(DefinitionProblem(file: path, path: "$", problem: "no such file or folder", expected: "a definition file or a folder of them"))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let entries = listDirectory(path).filter { $0.hasSuffix(".json") }.sorted()
                if entries.isEmpty {
                    problems.append(DefinitionProblem(file: path, path: "$", problem: "folder holds no .json files", expected: "at least one definition"))
                }
                files += entries.map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The whole content of a file, or nil.
    public static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }
}
