import Testing
@testable import Tally

/// Parses `json` as file `q.json`, returning the definition or the printed problems.
func parseDefinition(_ json: String) -> Result<Definition, DefinitionErrors> {
    DefinitionParser.parse(Array(json.utf8), file: "q.json")
}

func problems(_ json: String) -> [String] {
    switch parseDefinition(json) {
    case .success: return []
    case .failure(let e): return e.problems.map(\.description)
    }
}

let validDefinition = """
    {"name":"revenue","source":"orders","where":[{"field":"event_type","op":"eq","value":"OrderCreated"}],
     "groupBy":["customer_id"],"time":{"field":"timestamp","format":"epoch_ms"},
     "window":{"type":"sliding","size":"5m","slide":"1m","grace":"10s"},
     "aggregates":[{"name":"orders","fn":"count"},{"name":"revenue","fn":"sum","field":"total"}],
     "emit":"final","output":"out"}
    """

/// Replaces one top-level member of the valid definition.
func variant(_ key: String, _ value: String?) -> String {
    guard case .object(var members) = try! JSONValue.parse(Array(validDefinition.utf8)) else { fatalError() }
    members.removeAll { $0.key == key }
    var text = "{" + members.map { "\"\($0.key)\":\(render($0.value))" }.joined(separator: ",")
    if let value { text += ",\"\(key)\":\(value)" }
    return text + "}"
}

func render(_ v: JSONValue) -> String {
    switch v {
    case .null: return "null"
    case .bool(let b): return "\(b)"
    case .number(let n): return "\(n)"
    case .string(let s): return "\"\(s)\""
    case .array(let a): return "[" + a.map(render).joined(separator: ",") + "]"
    case .object(let m): return "{" + m.map { "\"\($0.key)\":\(render($0.value))" }.joined(separator: ",") + "}"
    }
}

@Test func validDefinitionParsesEveryField() throws {
    let d = try parseDefinition(validDefinition).get()
    #expect(d.name == "revenue")
    #expect(d.source == "orders")
    #expect(d.filters == [Predicate(field: FieldPath("event_type")!, op: .eq, values: [.string(Array("OrderCreated".utf8))])])
    #expect(d.groupBy == [FieldPath("customer_id")!])
    #expect(d.time == TimeSpec(field: FieldPath("timestamp")!, format: .epochMs))
    #expect(d.window == .sliding(300_000, every: 60_000, grace: 10_000))
    #expect(d.aggregates.map(\.fn) == [.count, .sum])
    #expect(d.output == "out")
    #expect(d.deadLetter == "out.dlq")
}

@Test func defaultsFillOptionalFields() throws {
    let d = try parseDefinition("""
        {"name":"a","source":"s","groupBy":[],"window":{"type":"tumbling","size":"1m"},"aggregates":[{"name":"n","fn":"count"}]}
        """).get()
    #expect(d.output == "a")
    #expect(d.deadLetter == "a.dlq")
    #expect(d.emit == .final)
    #expect(d.time == nil)
    #expect(d.window == .tumbling(60_000, grace: 0))
    #expect(d.filters.isEmpty && d.groupBy.isEmpty)
    #expect(!d.repartition)
}

@Test func repartitionIsReadAndChangesTheStoredStatesFingerprint() throws {
    let plain = try parseDefinition(validDefinition).get()
    let routed = try parseDefinition(variant("repartition", "true")).get()
    #expect(routed.repartition && !plain.repartition)
    // The shards of a repartitioned definition hold other keys than the source partitions'.
    #expect(Fingerprint.of(routed) != Fingerprint.of(plain))
    #expect(Fingerprint.of(try parseDefinition(variant("repartition", "false")).get()) == Fingerprint.of(plain))
}

@Test(arguments: [
    // (key, replacement, expected problem line)
    ("name", nil, "q.json: $.name: missing (expected a string)"),
    ("name", "\"Revenue\"", "q.json: $.name: \"Revenue\" is not a valid name (expected lowercase letters, digits and _, starting with a letter, at most 63 characters)"),
    ("name", "7", "q.json: $.name: 7 is not a non-empty string (expected a string)"),
    ("source", "\"bad topic!\"", "q.json: $.source: \"bad topic!\" is not a valid Kafka topic name (expected 1 to 249 of a-z A-Z 0-9 . _ -)"),
    ("groupBy", nil, "q.json: $.groupBy: missing (expected a list of field paths, [] for one global group)"),
    ("groupBy", "[\"a..b\"]", "q.json: $.groupBy[0]: \"a..b\" is not a field path (expected a field path like \"total\" or \"customer.id\" (dots reach nested objects))"),
    ("groupBy", "[\"a\",\"a\"]", "q.json: $.groupBy[1]: \"a\" is listed twice (expected each field once)"),
    ("window", "{\"type\":\"hopping\",\"size\":\"1m\"}", "q.json: $.window.type: \"hopping\" is not a window type (expected \"tumbling\" or \"sliding\")"),
    ("window", "{\"type\":\"tumbling\",\"size\":\"5 minutes\"}", "q.json: $.window.size: \"5 minutes\" is not a duration (expected a duration like \"500ms\", \"10s\", \"5m\", \"1h\" or \"1d\", above zero)"),
    ("window", "{\"type\":\"tumbling\",\"size\":\"0s\"}", "q.json: $.window.size: \"0s\" is zero (expected a duration like \"500ms\", \"10s\", \"5m\", \"1h\" or \"1d\", above zero)"),
    ("window", "{\"type\":\"tumbling\",\"size\":\"1m\",\"slide\":\"10s\"}", "q.json: $.window.slide: tumbling windows have no slide (expected no slide, or \"type\":\"sliding\")"),
    ("window", "{\"type\":\"sliding\",\"size\":\"5m\"}", "q.json: $.window.slide: missing (expected a duration like \"500ms\", \"10s\", \"5m\", \"1h\" or \"1d\", above zero)"),
    ("window", "{\"type\":\"sliding\",\"size\":\"5m\",\"slide\":\"2m\"}", "q.json: $.window.size: 5m is not a multiple of the slide 2m (expected a size that is a whole number of slides)"),
    ("window", "{\"type\":\"sliding\",\"size\":\"1d\",\"slide\":\"1s\"}", "q.json: $.window.slide: 86400 windows per event (expected at most 1000 (size / slide))"),
    ("window", "{\"type\":\"tumbling\",\"size\":\"1m\",\"grace\":\"-1s\"}", "q.json: $.window.grace: \"-1s\" is not a duration (expected a duration like \"0s\", \"10s\" or \"5m\")"),
    ("window", "{\"type\":\"tumbling\",\"size\":\"1m\",\"lateness\":\"1s\"}", "q.json: $.window.lateness: unknown field (expected one of type, size, slide, grace)"),
    ("aggregates", "[]", "q.json: $.aggregates: a list is not a non-empty list (expected a non-empty list like [{\"name\":\"orders\",\"fn\":\"count\"}])"),
    ("aggregates", "[{\"name\":\"s\",\"fn\":\"sum\"}]", "q.json: $.aggregates[0].field: missing (expected the numeric field that sum reads)"),
    ("aggregates", "[{\"name\":\"s\",\"fn\":\"median\",\"field\":\"x\"}]", "q.json: $.aggregates[0].fn: \"median\" is not an aggregate function (expected one of count, sum, avg, min, max)"),
    ("aggregates", "[{\"name\":\"s\",\"fn\":\"count\"},{\"name\":\"s\",\"fn\":\"max\",\"field\":\"x\"}]", "q.json: $.aggregates[1].name: \"s\" is used twice (expected unique aggregate names)"),
    ("where", "[{\"field\":\"x\",\"op\":\"like\",\"value\":1}]", "q.json: $.where[0].op: \"like\" is not an operator (expected one of eq, ne, lt, le, gt, ge, in, exists)"),
    ("where", "[{\"field\":\"x\",\"op\":\"in\",\"value\":[]}]", "q.json: $.where[0].value: a list is not a non-empty list (expected a non-empty list of strings, numbers or booleans)"),
    ("where", "[{\"field\":\"x\",\"op\":\"lt\",\"value\":true}]", "q.json: $.where[0].value: true cannot be compared (expected a number or string)"),
    ("where", "[{\"field\":\"x\",\"op\":\"exists\",\"value\":1}]", "q.json: $.where[0].value: exists takes no value (expected no value)"),
    ("where", "[{\"field\":\"x\",\"op\":\"eq\"}]", "q.json: $.where[0].value: missing (expected a string, number or boolean)"),
    ("time", "{\"field\":\"ts\",\"format\":\"unix\"}", "q.json: $.time.format: \"unix\" is not a time format (expected one of epoch_ms, epoch_s, iso8601)"),
    ("emit", "\"always\"", "q.json: $.emit: \"always\" is not an emit mode (expected \"final\" or \"update\")"),
    ("windowSize", "\"1m\"", "q.json: $.windowSize: unknown field (expected one of name, source, where, groupBy, time, window, aggregates, emit, output, deadLetter, repartition)"),
    ("repartition", "\"yes\"", "q.json: $.repartition: \"yes\" is not a boolean (expected true (the source is not partitioned by the group key) or false)"),
] as [(String, String?, String)])
func eachRuleReportsPathAndExpectation(key: String, replacement: String?, expected: String) {
    #expect(problems(variant(key, replacement)).contains(expected), "got: \(problems(variant(key, replacement)))")
}

@Test func everyProblemOfAFileIsReported() {
    let found = problems("""
        {"name":"X","source":"s","groupBy":[],"window":{"type":"tumbling","size":"1x"},"aggregates":[{"name":"a","fn":"avg"}],"extra":1}
        """)
    #expect(found.count == 4, "\(found)")
    #expect(found.contains { $0.hasPrefix("q.json: $.name:") })
    #expect(found.contains { $0.hasPrefix("q.json: $.window.size:") })
    #expect(found.contains { $0.hasPrefix("q.json: $.aggregates[0].field:") })
    #expect(found.contains { $0.hasPrefix("q.json: $.extra: unknown field") })
}

@Test func notJSONNamesTheByte() {
    #expect(problems("{\"name\": }") == ["q.json: $: not valid JSON: unexpected character at byte 9 (expected a JSON object)"])
    #expect(problems("[1]") == ["q.json: $: a list is not an object (expected a JSON object)"])
}

@Test func durationsParseEveryUnit() {
    #expect(TimeSpan.milliseconds("500ms") == 500)
    #expect(TimeSpan.milliseconds("10s") == 10_000)
    #expect(TimeSpan.milliseconds("5m") == 300_000)
    #expect(TimeSpan.milliseconds("2h") == 7_200_000)
    #expect(TimeSpan.milliseconds("1d") == 86_400_000)
    #expect(TimeSpan.milliseconds("1.5s") == nil)
    #expect(TimeSpan.milliseconds("s") == nil)
    #expect(TimeSpan.milliseconds("10") == nil)
    #expect(TimeSpan.format(300_000) == "5m")
    #expect(TimeSpan.format(1500) == "1500ms")
}
