import ArgumentParser
import Tally

/// `tally check PATH…`: validates definitions and prints every problem.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate definition files; print every problem as `file: json.path: problem (expected …)`.")

    @Argument(help: "Definition files or folders of them.")
    var paths: [String]

    func run() throws {
        switch DefinitionLoader.load(paths) {
        case .success(let definitions):
            for d in definitions { print("ok: \(d.name) (\(d.source) → \(d.output))") }
        case .failure(let errors):
            for p in errors.problems { print(p) }
            throw ExitCode(1)
        }
    }
}
