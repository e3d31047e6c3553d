import Foundation
import Testing
@testable import Tally

/// Fuzzing the definition parser (`tally check`, `tally run`, `tally test` all go through it):
/// generated and mutated definitions never crash it, and every problem it reports has the file
/// name, a JSON path (`$`, `$.a`, `$.a[0]`, or `$["odd key"]` for a member name that is not a plain
/// identifier) and the `file: path: problem (expected …)` form on one line (SPEC §2).
///
/// `TALLY_DEF_FUZZ_CASES` sets the number of inputs (default 3,000), `TALLY_DEF_FUZZ_SEED` the seed.
@Suite struct DefinitionFuzzTests {
    static var caseCount: Int {
        ProcessInfo.processInfo.environment["TALLY_DEF_FUZZ_CASES"].flatMap { Int($0) } ?? 3_000
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["TALLY_DEF_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xDEF_F022
    }

    /// True when `path` is `$` followed by `.identifier`, `[index]` or `["JSON string"]` steps.
    static func isJSONPath(_ path: String) -> Bool {
        var rest = Substring(path)
        guard rest.hasPrefix("$") else { return false }
        rest = rest.dropFirst()
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                let name = rest.dropFirst().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                guard let first = name.first, !first.isNumber else { return false }
                rest = rest.dropFirst(1 + name.count)
            } else if rest.hasPrefix("[\"") {
                // A JSON string literal up to the closing quote, then `]`.
                var i = rest.index(rest.startIndex, offsetBy: 2)
                var escaped = false
                while i < rest.endIndex {
                    if escaped { escaped = false } else if rest[i] == "\\" { escaped = true } else if rest[i] == "\"" { break }
                    i = rest.index(after: i)
                }
                guard i < rest.endIndex else { return false }
                let literal = rest[rest.index(after: rest.startIndex)...i]
                guard (try? JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)) is String else { return false }
                rest = rest[rest.index(after: i)...]
                guard rest.hasPrefix("]") else { return false }
                rest = rest.dropFirst()
            } else if rest.hasPrefix("[") {
                let digits = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, rest.dropFirst(1 + digits.count).hasPrefix("]") else { return false }
                rest = rest.dropFirst(2 + digits.count)
            } else {
                return false
            }
        }
        return true
    }

    /// The path of member `key` under `parent`, as the parser must write it.
    static func memberPath(_ parent: String, _ key: String) -> String {
        let plain = key.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if plain { return "\(parent).\(key)" }
        var quoted: [UInt8] = []
        JSONWriter.appendString(key, to: &quoted)
        return "\(parent)[\(String(decoding: quoted, as: UTF8.self))]"
    }

    /// Problems that break the documented form, for one parse.
    static func malformed(_ problems: [DefinitionProblem], file: String) -> [String] {
        var out: [String] = []
        for p in problems {
            let line = p.description
            if p.file != file { out.append("file \(p.file.debugDescription), not \(file)") }
            if !isJSONPath(p.path) { out.append("path \(p.path.debugDescription) is not a JSON path") }
            if p.problem.isEmpty || p.expected.isEmpty { out.append("empty problem or expectation: \(line.debugDescription)") }
            if line.utf8.contains(0x0A) || line.utf8.contains(0x0D) { out.append("more than one line: \(line.debugDescription)") }
            if !line.hasPrefix("\(file): \(p.path): ") || !line.hasSuffix(")") || !line.contains(" (expected ") {
                out.append("not `file: path: problem (expected …)`: \(line.debugDescription)")
            }
        }
        return out
    }

    @Test func mutatedDefinitionsNeverCrashAndReportWellFormedProblemsWhereTheyAre() {
        var mutator = DefinitionMutator(rng: SplitMix(seed: Self.seed))
        var valid = 0, invalid = 0, located = 0
        var failures: [String] = []
        let clock = ContinuousClock()
        let started = clock.now
        for i in 0..<Self.caseCount {
            let c = mutator.next()
            let file = "defs/case \(i).json"
            let result = DefinitionParser.parse(c.bytes, file: file)
            guard case .failure(let errors) = result else {
                valid += 1
                if c.change == .wrongType && !c.path.contains(".value") {
                    failures.append("\(c.change) at \(c.path) was accepted: \(String(decoding: c.bytes, as: UTF8.self))")
                }
                continue
            }
            invalid += 1
            var problems = Self.malformed(errors.problems, file: file)
            if errors.problems.isEmpty { problems.append("a failure without problems") }
            let paths = errors.problems.map(\.path)
            switch c.change {
            case .wrongType where !c.path.contains(".value"):
                if paths.contains(c.path) { located += 1 } else { problems.append("no problem at \(c.path)") }
            case .removed(required: true):
                if errors.problems.contains(where: { $0.path == c.path && $0.problem == "missing" }) { located += 1 } else {
                    problems.append("no `missing` at \(c.path)")
                }
            case .added(let key):
                let at = Self.memberPath(c.path, key)
                if errors.problems.contains(where: { $0.path == at && $0.problem == "unknown field" }) { located += 1 } else {
                    problems.append("no `unknown field` at \(at)")
                }
            default: break
            }
            if !problems.isEmpty && failures.count < 20 {
                failures.append("\(problems.joined(separator: "; "))\n  input: \(escapedBytes(c.bytes))\n  got: \(errors.problems.map(\.description))")
            }
        }
        print("definition fuzz: \(Self.caseCount) inputs (seed \(Self.seed)) in \(clock.now - started): \(valid) valid, \(invalid) refused, \(located) problems checked at their exact path")
        for f in failures { Issue.record("\(f)") }
        // Both outcomes occur, and most structured changes are checked at their path.
        #expect(valid > 0 && invalid > Self.caseCount / 2)
        #expect(located > Self.caseCount / 4)
    }

    @Test(arguments: [
        ("{\"name\":\"a\\nb\"}", "$.name"), ("{\"x\\ny\":1}", "$[\"x\\ny\"]"), ("{\"a b\":1}", "$[\"a b\"]"),
        ("{\"source\":\"bad\\r\\ntopic\"}", "$.source"), ("{\"groupBy\":[\"a\\n\",\"a\\n\"]}", "$.groupBy[1]"),
        ("{\"window\":{\"type\":\"tumbling\",\"size\":\"1\\n\"}}", "$.window.size"),
    ])
    func controlCharactersInNamesAndValuesStayOnOneLine(_ text: String, _ path: String) {
        guard case .failure(let errors) = DefinitionParser.parse(Array(text.utf8), file: "f.json") else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(Self.malformed(errors.problems, file: "f.json").isEmpty, "\(errors.problems.map(\.description))")
        #expect(errors.problems.contains { $0.path == path }, "\(errors.problems.map(\.description))")
    }

    /// The real `tally check` over generated broken files: exit 1 and one well-formed line per
    /// problem naming its file; exit 0 and `ok:` for a valid file (SPEC §2).
    @Test func checkCommandExitsNonZeroWithOneLinePerProblemOnGeneratedFiles() throws {
        let dir = try TemporaryFolder("tally-check-fuzz")
        var mutator = DefinitionMutator(rng: SplitMix(seed: Self.seed))
        var broken: [String] = []
        while broken.count < 8 {
            let c = mutator.next()
            guard case .failure = DefinitionParser.parse(c.bytes, file: "x") else { continue }
            let file = dir.url.appendingPathComponent("broken \(broken.count).json").path
            try Data(c.bytes).write(to: URL(fileURLWithPath: file))
            broken.append(file)
        }
        let valid = dir.url.appendingPathComponent("valid.json").path
        try DefinitionMutator.seeds[0].write(toFile: valid, atomically: true, encoding: .utf8)

        let ok = try TallyBinary.run(["check", valid])
        #expect(ok.status == 0 && ok.stdout == "ok: revenue (orders → revenue_out)\n", "\(ok)")
        for args in [broken, [valid] + broken, [dir.url.path], [dir.url.appendingPathComponent("absent.json").path]] {
            let run = try TallyBinary.run(["check"] + args)
            #expect(run.status == 1, "\(args): \(run.stderr)")
            let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(!lines.isEmpty)
            for line in lines where !line.hasPrefix("ok: ") {
                let file = args.first { line.hasPrefix("\($0): $") } ?? broken.first { line.hasPrefix("\($0): $") }
                #expect(file != nil && line.hasSuffix(")") && line.contains(" (expected "), "\(line)")
            }
            for file in args where broken.contains(file) {
                #expect(lines.contains { $0.hasPrefix("\(file): $") }, "no problem reported for \(file)")
            }
        }
    }

    @Test func pathCheckerAcceptsOnlyJSONPaths() {
        for good in ["$", "$.a", "$.a_b[0].c", "$[\"a b\"]", "$.x[\"q\\\"\"][12]"] { #expect(Self.isJSONPath(good), "\(good)") }
        for bad in ["", "a", "$.", "$.a b", "$[x]", "$[\"a\"", "$.1a", "$[]", "$.a\nb"] { #expect(!Self.isJSONPath(bad), "\(bad)") }
    }
}
