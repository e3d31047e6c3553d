/// Sizes written as `256MB`, `2GB`, `512KB` or plain bytes (`MiB`, `GiB`, `KiB` too; all powers of 1024).
enum ByteSize {
    static func parse(_ text: String) -> Int? {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count)), n >= 0, n <= Int.max / factor else { return nil }
            return n * factor
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// A `--memory-budget` (or `--spill-budget`) value: a size of at least 64 KiB.
    static func memoryBudget(_ text: String) -> Int? {
        parse(text).flatMap { $0 >= 64 << 10 ? $0 : nil }
    }

    /// What a budget must look like, for error messages.
    static let memoryBudgetExpected = "expected a size of at least 64KB, like 256MB or 2GB"
}
