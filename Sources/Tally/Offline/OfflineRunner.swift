/// `tally test`: runs one definition over a JSON Lines input, as one partition read in order,
/// through the same scanner and window operator as the live engine. At end of input every window
/// is closed and emitted.
public final class OfflineRunner {
    let op: WindowOperator
    let scanner: EventScanner
    let encoder: ResultEncoder
    let output: OutputWriter
    let deadLetter: OutputWriter?
    let updateInterval: Int
    /// Outcome counts so far.
    public private(set) var stats = RunStats()
    /// Where accumulators spill past the operator's memory budget (see `spill(to:budget:)`).
    var store: StateStore?
    var outputError: (any Error)?

    /// A runner writing results to `output` and, when given, rejected and late events to `deadLetter`.
    /// In update mode, changed windows are emitted every `updateInterval` events.
    public init(_ definition: Definition, output: OutputWriter, deadLetter: OutputWriter? = nil, updateInterval: Int = 1000) {
        var plan = FieldPlan()
        op = WindowOperator(definition, plan: &plan)
        scanner = EventScanner(plan: plan)
        encoder = ResultEncoder(definition, layout: op.layout)
        self.output = output
        self.deadLetter = deadLetter
        self.updateInterval = max(1, updateInterval)
        op.onResults = { [unowned self] in
            do { try drain() } catch { outputError = error }
        }
    }

    /// Keeps at most `budget` bytes of window state in memory, spilling the rest to `store`
    /// (the live engine's spill, with a checkpoint whenever the state is over the budget).
    public func spill(to store: StateStore, budget: Int) {
        self.store = store
        op.spillStore = store.spillStore(for: op)
        op.memoryBudget = budget
    }

    /// Accumulators spilled so far.
    public var spilledAccumulators: Int { op.evictedTotal }

    /// Reads every line of `reader`, then closes all windows and flushes the output.
    public func run(_ reader: LineReader) throws -> RunStats {
        let needsClock = op.definition.time == nil
        var lineNumber = 0
        try reader.forEachLine { line in
            lineNumber += 1
            if line.isEmpty { return }
            let recordTime: Int64? = needsClock ? Clock.now() : nil
            let outcome: EventOutcome = scanner.scan(line) { scan, view in
                switch scan {
                case .object: return op.process(view, recordTime: recordTime)
                case .notAnObject: op.reject(); return .rejected(.notAnObject)
                case .invalid: op.reject(); return .rejected(.invalidJSON)
                }
            }
            stats.record(outcome)
            if outcome != .counted && outcome != .filtered, let dl = deadLetter {
                writeDeadLetter(line, lineNumber: lineNumber, outcome: outcome, to: dl)
                try dl.flushIfFull()
            }
            if op.isUpdateMode && stats.read % updateInterval == 0 { op.flushUpdates() }
            if !op.results.isEmpty { try drain() }
            if let outputError { throw outputError }
            if let store, stats.read % 1024 == 0, op.isOverBudget {
                try store.checkpoint([.init(op: op, closed: ClosedResultsBatch(), expireBefore: nil, offsets: [:], stats: stats)], at: Clock.now())
            }
        }
        op.flushUpdates()
        try drain()  // the updates before the final results that closing brings
        op.closeAll()
        if let outputError { throw outputError }
        try drain()
        try output.flush()
        try deadLetter?.flush()
        return stats
    }

    func drain() throws {
        // A window combined from spilled parts that could not all be read is not written.
        if let failure = store?.spillFailure() { throw StateError(failure) }
        encoder.encodeLines(op.results, into: &output.buffer)
        stats.emitted += op.results.count
        op.results.removeAll()
        try output.flushIfFull()
    }

    func writeDeadLetter(_ line: UnsafeRawBufferPointer, lineNumber: Int, outcome: EventOutcome, to dl: OutputWriter) {
        let reason: String
        switch outcome {
        case .late: reason = "late"
        case .rejected(let r): reason = r.rawValue
        default: return
        }
        dl.buffer += Array("{\"reason\":\"\(reason)\",\"line\":\(lineNumber),\"event\":".utf8)
        JSONWriter.appendString(String(decoding: line, as: UTF8.self), to: &dl.buffer)
        dl.buffer += Array("}\n".utf8)
    }
}
