/// Where a definition's event time comes from: a field of the event in one of the `time`
/// formats, or (no `time`) the Kafka record timestamp. Read by the operator for each event, and
/// by a router for the progress it forwards (docs/scale-out.md).
struct TimeField {
    /// The field's slot in the topic's `FieldPlan`; -1 for the record timestamp.
    let slot: Int
    let format: TimeSpec.Format?

    /// Registers the field of `spec` (if any) in `plan`.
    init(_ spec: TimeSpec?, plan: inout FieldPlan) {
        slot = spec.map { plan.slot(for: $0.field) } ?? -1
        format = spec?.format
    }

    var usesRecordTime: Bool { slot < 0 }

    /// The event time of `view` (`recordTime` when the definition has no `time`), or why there is none.
    @inline(__always)
    func time(of view: EventView, recordTime: Int64?) -> (time: Int64?, problem: RejectReason) {
        guard slot >= 0 else { return (recordTime, .missingTime) }
        let v = view[slot]
        var time: Int64? = nil
        switch (format!, v.kind) {
        case (_, .missing), (_, .null): break
        case (.epochMs, .number): time = EventTime.fromEpochMilliseconds(v.number)
        case (.epochS, .number): time = EventTime.fromEpochSeconds(v.number)
        case (.iso8601, .string): time = EventTime.parseISO8601(view.bytes(of: v))
        default: break
        }
        return (time, time == nil && !v.isAbsent ? .invalidTime : .missingTime)
    }
}
