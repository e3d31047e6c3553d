/// One thing wrong with a definition file, printed as `file: json.path: problem (expected …)`.
public struct DefinitionProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// JSONPath of the offending value (`$.window.size`).
    public var path: String
    /// What is wrong.
    public var problem: String
    /// What was expected.
    public var expected: String

    /// Makes a problem.
    public init(file: String, path: String, problem: String, expected: String) {
        self.file = file
        self.path = path
        self.problem = problem
        self.expected = expected
    }

    public var description: String { "\(file): \(path): \(problem) (expected \(expected))" }
}

/// Every problem found in a set of definitions.
public struct DefinitionErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var problems: [DefinitionProblem]

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
