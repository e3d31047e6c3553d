/// The one error type of Tally's state layer, with a way out the user can act on.
public struct StateError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, and what to do.
    public var description: String

    /// Makes one.
    public init(_ description: String) { self.description = description }
}
