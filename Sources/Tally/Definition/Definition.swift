/// One aggregation as declared in a `queries/*.json` file (SPEC §3), validated.
public struct Definition: Sendable, Equatable {
    /// Unique name, `^[a-z][a-z0-9_]{0,62}$`.
    public var name: String
    /// Input topic.
    public var source: String
    /// Conditions that must all hold for an event to count.
    public var filters: [Predicate]
    /// Group-key paths, in order; empty means one global group.
    public var groupBy: [FieldPath]
    /// Where event time comes from; nil means the Kafka record timestamp.
    public var time: TimeSpec?
    /// The windows.
    public var window: WindowSpec
    /// What is computed per window.
    public var aggregates: [AggregateSpec]
    /// When results are emitted.
    public var emit: EmitMode
    /// Output topic.
    public var output: String
    /// Dead-letter topic.
    public var deadLetter: String
    /// Group mode: events reach the shards through `<group>-<name>-repartition`, keyed by the
    /// group key, because the source is not partitioned by it (SPEC §3; docs/scale-out.md).
    public var repartition: Bool = false
}

/// `where` condition on one field.
public struct Predicate: Sendable, Equatable {
    /// Comparison operators.
    public enum Op: String, Sendable, CaseIterable {
        case eq, ne, lt, le, gt, ge, `in`, exists
    }
    /// The field compared.
    public var field: FieldPath
    /// The operator.
    public var op: Op
    /// The operand(s): one for comparisons, several for `in`, none for `exists`.
    public var values: [Literal]
}

/// A scalar constant in a definition.
public enum Literal: Sendable, Equatable {
    case string([UInt8])
    case number(Double)
    case bool(Bool)
}

/// Event-time extraction.
public struct TimeSpec: Sendable, Equatable {
    /// Supported time formats.
    public enum Format: String, Sendable, CaseIterable {
        case epochMs = "epoch_ms"
        case epochS = "epoch_s"
        case iso8601
    }
    /// The field holding the time.
    public var field: FieldPath
    /// How it is written.
    public var format: Format
}

/// Window shape; times in milliseconds.
public struct WindowSpec: Sendable, Equatable, Hashable {
    /// Window length.
    public var size: Int64
    /// Distance between window starts (= size for tumbling windows).
    public var slide: Int64
    /// How long after its end a window still accepts events.
    public var grace: Int64
    /// True for sliding (hopping) windows.
    public var isSliding: Bool

    /// Tumbling windows of `size`.
    public static func tumbling(_ size: Int64, grace: Int64 = 0) -> WindowSpec {
        WindowSpec(size: size, slide: size, grace: grace, isSliding: false)
    }

    /// Sliding windows of `size` every `slide`.
    public static func sliding(_ size: Int64, every slide: Int64, grace: Int64 = 0) -> WindowSpec {
        WindowSpec(size: size, slide: slide, grace: grace, isSliding: true)
    }
}

/// One aggregate column.
public struct AggregateSpec: Sendable, Equatable, Hashable {
    /// Aggregate functions.
    public enum Function: String, Sendable, CaseIterable {
        case count, sum, avg, min, max
    }
    /// Output name.
    public var name: String
    /// Function.
    public var fn: Function
    /// Input field; nil only for `count` of events.
    public var field: FieldPath?
}

/// When results leave the engine.
public enum EmitMode: String, Sendable, CaseIterable {
    /// Once per window, when it closes.
    case final
    /// Whenever values changed, at most once per window per checkpoint interval, then final.
    case update
}
