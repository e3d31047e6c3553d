/// A failure of a command, worded for the user (ArgumentParser prints it as `Error: …`).
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
