@testable import Tally

/// What a test expects at one field path, independent of `FieldValue`'s layout.
enum Extracted: Equatable, CustomStringConvertible {
    case missing, null, object, array
    case bool(Bool)
    case number(Double)
    case string([UInt8])

    static func text(_ s: String) -> Extracted { .string(Array(s.utf8)) }

    var description: String {
        switch self {
        case .missing: "missing"
        case .null: "null"
        case .object: "object"
        case .array: "array"
        case .bool(let b): "bool(\(b))"
        case .number(let d): "number(\(d))"
        case .string(let b): "string(\(String(decoding: b, as: UTF8.self)) \(b))"
        }
    }
}

/// Reads the value of `slot` out of a scan view.
func extracted(_ view: EventView, _ slot: Int) -> Extracted {
    let v = view[slot]
    switch v.kind {
    case .missing: return .missing
    case .null: return .null
    case .object: return .object
    case .array: return .array
    case .bool: return .bool(v.number != 0)
    case .number: return .number(v.number)
    case .string: return .string(Array(view.bytes(of: v)))
    }
}

/// Scans `bytes` with a plan for `paths`; returns the outcome and the value of each path, in order.
func scanEvent(_ bytes: [UInt8], paths: [String]) -> (EventScanner.Outcome, [Extracted]) {
    let plan = FieldPlan(paths.map { FieldPath($0)! })
    let scanner = EventScanner(plan: plan)
    return scanEvent(bytes, scanner: scanner, paths: paths)
}

func scanEvent(_ bytes: [UInt8], scanner: EventScanner, paths: [String]) -> (EventScanner.Outcome, [Extracted]) {
    bytes.withUnsafeBytes { raw in
        scanner.scan(raw) { outcome, view in
            let values = paths.map { p -> Extracted in
                let slot = scanner.plan.paths.firstIndex(of: FieldPath(p)!)!
                return extracted(view, slot)
            }
            return (outcome, values)
        }
    }
}

func scanEvent(_ text: String, paths: [String]) -> (EventScanner.Outcome, [Extracted]) {
    scanEvent(Array(text.utf8), paths: paths)
}

/// The failure reason of an invalid scan, nil when the input was accepted.
func failureReason(_ bytes: [UInt8]) -> JSONFailure.Reason? {
    let (outcome, _) = scanEvent(bytes, paths: [])
    if case .invalid(let f) = outcome { return f.reason }
    return nil
}

/// Bytes shown with non-printable ones escaped, to reproduce a failing input.
func escapedBytes(_ bytes: [UInt8]) -> String {
    var s = ""
    for b in bytes {
        if b >= 0x20 && b < 0x7F && b != 0x5C {
            s.unicodeScalars.append(Unicode.Scalar(b))
        } else {
            s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return s
}
