/// What of a definition its stored state depends on: the window size and slide, the group key
/// and the aggregates (with the layout version). Changing `where`, `time`, `grace`, `emit` or
/// the output topics keeps the state usable; changing any of these does not, nor does turning
/// `repartition` on or off (a shard's state then belongs to other partitions).
public enum Fingerprint {
    /// The fingerprint text of `d` (readable, so the refusal message can show what changed).
    public static func of(_ d: Definition) -> String {
        let window = d.window.isSliding
            ? "sliding \(TimeSpan.format(d.window.size))/\(TimeSpan.format(d.window.slide))"
            : "tumbling \(TimeSpan.format(d.window.size))"
        let aggs = d.aggregates.map { "\($0.name)=\($0.fn.rawValue)(\($0.field?.text ?? ""))" }
        let routed = d.repartition ? "; repartitioned" : ""
        return "v1; window \(window); groupBy [\(d.groupBy.map(\.text).joined(separator: ", "))]; aggregates [\(aggs.joined(separator: ", "))]\(routed)"
    }
}
