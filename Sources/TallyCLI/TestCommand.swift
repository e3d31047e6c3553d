import ArgumentParser
import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tally test DEFINITION --input FILE|-`: one definition offline over JSON Lines.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run one definition offline over a JSON Lines file; output records on stdout, a summary on stderr.")

    @Argument(help: "The definition file.")
    var definition: String

    @Option(name: .long, help: "JSON Lines input file, or - for stdin.")
    var input: String

    @Option(name: .long, help: "Write rejected and late events, with their reason, as JSON Lines to this file.")
    var deadLetter: String?

    @Option(name: .long, help: "With \"emit\": \"update\", emit changed windows every N events.")
    var updateInterval: Int = 1000

    @Option(name: .long, help: "Window state kept in memory, e.g. 256MB; past it, accumulators spill to RocksDB in --state (default: no limit).")
    var memoryBudget: String?

    @Option(name: .long, help: "With --memory-budget: the folder to spill to (emptied first; default: a temporary folder, removed at the end).")
    var state: String?

    func run() throws {
        let definition: Definition
        switch DefinitionLoader.load([self.definition]) {
        case .success(let ds): definition = ds[0]
        case .failure(let errors):
            for p in errors.problems { printError(p.description) }
            throw ExitCode(2)
        }
        let fd = input == "-" ? STDIN_FILENO : open(input, O_RDONLY)
        guard fd >= 0 else {
            printError("\(input): cannot open: \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        var dlWriter: OutputWriter? = nil
        if let deadLetter {
            let dfd = open(deadLetter, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard dfd >= 0 else {
                printError("\(deadLetter): cannot create: \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
            dlWriter = OutputWriter(fd: dfd)
        }
        let runner = OfflineRunner(definition, output: OutputWriter(fd: STDOUT_FILENO), deadLetter: dlWriter, updateInterval: updateInterval)
        var spillStore: StateStore? = nil
        var spillFolder: String? = nil
        defer {
            spillStore?.close()
            if state == nil, let spillFolder { TemporaryFolder.remove(spillFolder) }
        }
        if let memoryBudget {
            guard let budget = ByteSize.memoryBudget(memoryBudget) else {
                printError("--memory-budget \(memoryBudget): \(ByteSize.memoryBudgetExpected)")
                throw ExitCode(2)
            }
            AllocatorTuning.apply()
            do {
                let folder = try state ?? TemporaryFolder.make("tally-test-state")
                spillFolder = folder
                let store = try StateStore(path: folder, definitions: [definition], reset: [definition.name], memoryBudget: budget)
                spillStore = store
                runner.spill(to: store, budget: budget)
            } catch {
                printError("tally test: \(error)")
                throw ExitCode(1)
            }
        } else if state != nil {
            printError("--state is for --memory-budget (tally test keeps no state otherwise)")
            throw ExitCode(2)
        }
        do {
            let stats = try runner.run(LineReader(fd: fd))
            printError("\(definition.name): \(stats.summary)")
            if spillStore != nil { printError("\(definition.name): \(runner.spilledAccumulators) accumulators spilled") }
        } catch {
            printError("\(input): \(error)")
            throw ExitCode(1)
        }
    }
}

/// Prints a line on stderr.
func printError(_ line: String, newline: Bool = true) {
    var bytes = Array((newline ? line + "\n" : line).utf8)
    _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}
