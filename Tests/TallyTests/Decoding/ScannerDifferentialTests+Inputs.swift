/// Two more sources of inputs for the differential test: bytes with no structure at all, and
/// real order events (the shape of data/orders.jsonl), which the byte mutations then break.
extension ScannerDifferentialTests {
    /// The fields of an order event, read by the plan so their values are compared too.
    static let orderPaths = [
        "event_type", "order_id", "customer_id", "total", "items", "timestamp", "region", "customer.tier", "created_at",
    ]

    /// 0 to 80 bytes, uniformly random or drawn from the bytes that matter to JSON.
    static func randomBytes(_ rng: inout SplitMix64) -> [UInt8] {
        let structured = rng.chance(0.5)
        return (0..<rng.int(0...80)).map { _ in
            structured ? rng.pick(interestingBytes) : UInt8(truncatingIfNeeded: rng.next())
        }
    }

    /// One order event as `data/generate.py` writes it, with random values (sometimes a null or
    /// missing total, a nested object or escapes) and members in shuffled order at times.
    static func orderEvent(_ g: inout Generator) -> [UInt8] {
        let t = 1_763_999_999_000 + Int64(g.rng.int(0...4_000_000))
        let type = g.rng.pick(["OrderCreated", "OrderShipped", "OrderPaid", "Order\\u0043reated"])
        let total: String? = g.rng.chance(0.05) ? nil : g.rng.chance(0.05) ? "null"
            : String(Double(g.rng.int(1...99_999)) / 100)
        var members: [(String, String)] = [
            ("event_type", "\"\(type)\""), ("order_id", "\(1_000_000 + g.rng.int(0...999_999))"),
            ("customer_id", "\"c\(g.rng.int(0...9_999))\""), ("items", "\(g.rng.int(1...9))"),
            ("timestamp", "\(t)"), ("region", "\"\(g.rng.pick(["eu", "us", "apac", "latam"]))\""),
            ("customer", "{\"tier\":\"\(g.rng.pick(["gold", "silver", "bronze"]))\"}"),
            ("created_at", "\"2025-11-24T15:59:59.\(g.rng.int(100...999))Z\""),
        ]
        if let total { members.insert(("total", total), at: 3) }
        if g.rng.chance(0.2) { members.shuffle(using: &g.rng) }
        return Array(("{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}").utf8)
    }

    /// The next input of the differential loop: mostly generated documents, a tenth random bytes,
    /// a fifth order events; about 60% of the structured ones mutated once or twice.
    static func nextInput(_ g: inout Generator) -> [UInt8] {
        let pick = g.rng.below(10)
        if pick == 0 { return randomBytes(&g.rng) }
        var input = pick <= 2 ? orderEvent(&g) : g.document()
        if g.rng.chance(0.6) {
            input = mutate(input, &g)
            if g.rng.chance(0.25) { input = mutate(input, &g) }
        }
        return input
    }
}
