import Tally

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `tally bench` runs: order events shaped like `../shared/bench/peers/gen.py` and the two
/// queries of `bench/queries/` (a test keeps them equal), generated here so that a user needs
/// nothing but the binary.
enum BenchWorkload {
    /// The benchmark's queries over `source`: tumbling 60 s and hopping 5 m / 1 m per customer,
    /// count/sum/min/max/avg of `OrderCreated` totals.
    static func queries(source: String) -> [(label: String, name: String, json: String)] {
        [("tumbling", "orders_agg", definition(name: "orders_agg", source: source, window: tumblingWindow)),
         ("hopping", "orders_agg_hop", definition(name: "orders_agg_hop", source: source,
                                                  window: #"{"type": "sliding", "size": "5m", "slide": "1m", "grace": "1s"}"#))]
    }

    /// The tumbling window of the benchmark (also the restart and latency steps').
    static let tumblingWindow = #"{"type": "tumbling", "size": "60s", "grace": "1s"}"#

    static func definition(name: String, source: String, window: String) -> String {
        """
        {
          "name": "\(name)",
          "source": "\(source)",
          "where": [{"field": "event_type", "op": "eq", "value": "OrderCreated"}],
          "groupBy": ["customer_id"],
          "time": {"field": "timestamp", "format": "epoch_ms"},
          "window": \(window),
          "aggregates": [
            {"name": "count", "fn": "count"},
            {"name": "sum", "fn": "sum", "field": "total"},
            {"name": "min", "fn": "min", "field": "total"},
            {"name": "max", "fn": "max", "field": "total"},
            {"name": "avg", "fn": "avg", "field": "total"}
          ]
        }

        """
    }

    /// Writes `count` order events: 10,000 customers, ~2 ms apart in event time with ±500 ms of
    /// disorder, 60% `OrderCreated` / 30% `OrderShipped` / 10% `OrderCancelled`.
    static func writeOrders(count: Int, to path: String, seed: UInt64 = 7) throws {
        var rng = SplitMix64(seed: seed)
        try write(path) { out in
            for i in 0..<count {
                let ts = 1_764_000_000_000 + 2 * Int64(i) + Int64(rng.next(1001)) - 500
                let r = rng.next(10)
                let type = r < 6 ? "OrderCreated" : r < 9 ? "OrderShipped" : "OrderCancelled"
                let customer = rng.next(10_000)
                let cents = 100 + rng.next(49_901)
                let items = 1 + rng.next(8)
                out.append(#"{"event_type":"\#(type)","order_id":\#(1_000_000 + i),"customer_id":"c\#(customer)","total":\#(decimal(cents)),"items":\#(items),"timestamp":\#(ts)}"#)
            }
        }
    }

    /// Writes `count` `OrderCreated` events, each of its own customer, all in the one minute from
    /// 2025-11-24T16:00Z (so that every window stays open: the restart workload).
    static func writeDistinctKeys(count: Int, to path: String, seed: UInt64 = 11) throws {
        var rng = SplitMix64(seed: seed)
        try write(path) { out in
            for i in 0..<count {
                let ts = 1_764_000_000_000 + Int64(i % 50_000)
                out.append(#"{"event_type":"OrderCreated","customer_id":"k\#(i)","total":\#(decimal(100 + rng.next(49_901))),"timestamp":\#(ts)}"#)
            }
        }
    }

    /// `cents` as a decimal with two fraction digits.
    static func decimal(_ cents: Int) -> String {
        let c = cents % 100
        return "\(cents / 100).\(c < 10 ? "0" : "")\(c)"
    }

    /// Writes the lines `body` appends, each followed by a newline.
    static func write(_ path: String, _ body: (inout LineSink) throws -> Void) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var sink = LineSink(writer: OutputWriter(fd: fd))
        try body(&sink)
        try sink.writer.flush()
        if let error = sink.error { throw error }
    }

    struct LineSink {
        let writer: OutputWriter
        var error: Error?
        mutating func append(_ line: String) {
            writer.buffer += line.utf8
            writer.buffer.append(0x0A)
            do { try writer.flushIfFull() } catch { self.error = error }
        }
    }
}

/// A small, fast, seeded generator (SplitMix64): the same events on every machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    /// A number in `0..<bound`.
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
