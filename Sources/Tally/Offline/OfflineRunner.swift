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
    }

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
            if op.definition.emit == .update && stats.read % updateInterval == 0 { op.flushUpdates() }
            if !op.results.isEmpty { try drain() }
        }
        op.flushUpdates()
        op.closeAll()
        try drain()
        try output.flush()
        try deadLetter?.flush()
        return stats
    }

    func drain() throws {
        encoder.encodeLines(op.results, into: &output.buffer)
        stats.emitted += op.results.count
        op.results.removeAll(keepingCapacity: true)
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
