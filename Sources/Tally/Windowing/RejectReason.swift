/// Why an event could not be counted; the reason travels as a dead-letter header and metric label.
public enum RejectReason: String, Sendable, CaseIterable, Comparable {
    /// The bytes are not valid JSON.
    case invalidJSON = "invalid_json"
    /// Valid JSON, but not an object.
    case notAnObject = "not_an_object"
    /// The time field is missing or null (or, without `time`, the record has no timestamp).
    case missingTime = "missing_time"
    /// The time field has the wrong type or cannot be parsed.
    case invalidTime = "invalid_time"
    /// A `groupBy` field is missing or null.
    case missingGroupField = "missing_group_field"
    /// A `groupBy` field is an object or a list.
    case invalidGroupField = "invalid_group_field"
    /// A numeric aggregate's field holds a string, boolean, object or list.
    case nonNumericValue = "non_numeric_value"

    public static func < (a: RejectReason, b: RejectReason) -> Bool { a.rawValue < b.rawValue }
}

/// What happened to one event in one definition.
public enum EventOutcome: Equatable, Sendable {
    /// Counted in at least one window.
    case counted
    /// Did not pass `where`.
    case filtered
    /// All its windows had closed.
    case late
    /// Bad input.
    case rejected(RejectReason)
}
