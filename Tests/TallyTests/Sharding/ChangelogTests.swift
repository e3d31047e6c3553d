import Testing
@testable import Tally

/// A shard's changelog: the records' Kafka encoding, and the restore that applies a checkpoint
/// only once its marker is read.
@Suite struct ChangelogTests {
    // MARK: Helpers

    static func slice(_ key: String, _ start: Int64) -> [UInt8] { StateKeys.slice(key: Array(key.utf8), start: start) }
    static func part(_ key: String, _ slice: Int64, _ part: Int64) -> [UInt8] {
        StateKeys.spill(key: Array(key.utf8), slice: slice, part: part)
    }
    static func closed(_ start: Int64, _ bucket: UInt8) -> [UInt8] { StateKeys.closed(start: start, bucket: bucket) }
    static func doubles(_ values: Double...) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }
    static func marker(_ id: UInt64) -> ChangelogMarker {
        ChangelogMarker(
            checkpoint: id, nextOffset: Int64(id) * 100, watermark: Int64(id) * 1000 - 5000,
            closedThrough: id % 2 == 0 ? nil : Int64(id) * 60_000, spillSequence: Int64(id) * 3)
    }

    /// Encodes `record` as a Kafka record, takes it apart as a consumer would (key, value, header
    /// value), and decodes it.
    static func roundTrip(_ record: ChangelogRecord, checkpoint: UInt64) throws -> (ChangelogRecord, UInt64) {
        let message = record.encode(checkpoint: checkpoint)
        let headers = message.headers
        #expect(headers.count == 1)
        #expect(headers.first?.0 == "tally.checkpoint")
        let read = try ChangelogMessage(key: message.key, value: message.value, checkpointHeader: headers.first?.1)
        return (try ChangelogRecord.decode(read), read.checkpoint)
    }

    /// Feeds one checkpoint's records, through their Kafka encoding, then its marker unless cut short.
    static func feed(_ restore: inout ChangelogRestore, _ id: UInt64, _ records: [ChangelogRecord], complete: Bool = true) throws {
        for r in records + (complete ? [.marker(marker(id))] : []) {
            let (decoded, checkpoint) = try roundTrip(r, checkpoint: id)
            restore.apply(decoded, checkpoint: checkpoint)
        }
    }

    static func state(_ restore: ChangelogRestore) -> [[UInt8]: [UInt8]] {
        Dictionary(uniqueKeysWithValues: restore.finish().entries.map { ($0.key, $0.value) })
    }

    /// Unsigned byte order, written out.
    static func before(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        for i in 0..<min(a.count, b.count) where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    // MARK: Encoding

    static let records: [ChangelogRecord] = [
        .put(key: slice("customer-1", 60_000), value: doubles(3, 42.5)),
        .put(key: slice("customer-1", -86_400_000), value: doubles(1)),  // 1969-12-31
        .put(key: slice("", 0), value: doubles(0, -0.0, .infinity)),
        .put(key: slice("k", .min), value: doubles(1)),
        .put(key: slice("k", .max), value: doubles(1)),
        .put(key: part("customer-2", 120_000, 7), value: doubles(2, 9)),
        .put(key: part("customer-2", -1, 0), value: doubles(2, 9)),
        .put(key: part("", -3_600_000, .max), value: doubles(1)),
        .delete(key: slice("customer-1", 60_000)),
        .delete(key: slice("customer-1", -60_000)),
        .delete(key: part("customer-2", -120_000, 3)),
        .dropSpilled(slice: 0),
        .dropSpilled(slice: -1),
        .dropSpilled(slice: -86_400_000),
        .dropSpilled(slice: 1_700_000_000_000),
        .dropSpilled(slice: .min),
        .dropSpilled(slice: .max),
        .put(key: closed(60_000, 0), value: [3, 0, 0, 0, 0x61, 0x62, 0x63] + doubles(1, 2)),
        .put(key: closed(-60_000, 63), value: [0, 0, 0, 0] + doubles(7)),
        .delete(key: closed(.min, 5)),
        .expireClosed(before: 0),
        .expireClosed(before: -86_400_000),
        .expireClosed(before: 1_700_000_000_000),
        .expireClosed(before: .min),
        .expireClosed(before: .max),
        .marker(ChangelogMarker(checkpoint: 0, nextOffset: 0, watermark: nil, closedThrough: nil, spillSequence: 0)),
        .marker(ChangelogMarker(checkpoint: 0, nextOffset: 17, watermark: -5, closedThrough: nil, spillSequence: 2)),
        .marker(ChangelogMarker(checkpoint: 0, nextOffset: 17, watermark: nil, closedThrough: -60_000, spillSequence: 2)),
        .marker(ChangelogMarker(checkpoint: 0, nextOffset: .max, watermark: .min, closedThrough: .max, spillSequence: .max)),
        .marker(ChangelogMarker(checkpoint: 0, nextOffset: 123_456, watermark: 0, closedThrough: 0, spillSequence: -1)),
    ]

    @Test(arguments: records, [UInt64(0), 7, 0x0102_0304_0506_0708, .max])
    func everyRecordSurvivesItsKafkaEncoding(record: ChangelogRecord, checkpoint: UInt64) throws {
        var record = record
        if case .marker(var m) = record {
            m.checkpoint = checkpoint
            record = .marker(m)
        }
        let (decoded, id) = try Self.roundTrip(record, checkpoint: checkpoint)
        #expect(decoded == record)
        #expect(id == checkpoint)
    }

    @Test func kafkaKeysValuesAndHeaderAreAsDocumented() {
        let key = Self.slice("a", 60_000)
        let put = ChangelogRecord.put(key: key, value: Self.doubles(1)).encode(checkpoint: 0x0102_0304_0506_0708)
        #expect(put.key == key)
        #expect(put.value == Self.doubles(1))
        #expect(put.headers.first?.1 == [8, 7, 6, 5, 4, 3, 2, 1])  // little-endian

        let delete = ChangelogRecord.delete(key: key).encode(checkpoint: 1)
        #expect(delete.key == key)
        #expect(delete.value == nil)

        let drop = ChangelogRecord.dropSpilled(slice: -1).encode(checkpoint: 0x0102_0304_0506_0708)
        #expect(drop.key == [0x04, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(drop.value == [])
        // The slice bytes are those of the spilled parts' keys.
        #expect(Array(drop.key[1..<9]) == Array(Self.part("k", -1, 0)[1..<9]))
        // Two checkpoints dropping the same slice have two keys: compaction keeps both.
        #expect(ChangelogRecord.dropSpilled(slice: 5).encode(checkpoint: 1).key != ChangelogRecord.dropSpilled(slice: 5).encode(checkpoint: 2).key)

        let m = ChangelogMarker(checkpoint: 9, nextOffset: 0x10, watermark: nil, closedThrough: 0x20, spillSequence: 0x30)
        let marker = ChangelogRecord.marker(m).encode(checkpoint: 9)
        #expect(marker.key == [0x00])
        #expect(marker.value == [1, 2] + [9, 0, 0, 0, 0, 0, 0, 0] + [0x10, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
            + [0x20, 0, 0, 0, 0, 0, 0, 0] + [0x30, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func anEmptyValueUnderAStateKeyIsATombstone() throws {
        // KafkaMessage.payload is empty for a null value, so a reader may hand over [] for nil.
        let key = Self.part("a", 60_000, 1)
        #expect(try ChangelogRecord.decode(key: key, value: [], checkpoint: 1) == .delete(key: key))
        #expect(try ChangelogRecord.decode(key: [0x04] + [UInt8](repeating: 0, count: 15) + [1], value: nil, checkpoint: 1)
            == .dropSpilled(slice: .min))
    }

    // MARK: Rejected input

    static func rejects(
        _ key: [UInt8], _ value: [UInt8]?, checkpoint: UInt64? = 1, saying words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: StateError.self, sourceLocation: sourceLocation) {
            try ChangelogRecord.decode(key: key, value: value, checkpoint: checkpoint)
        }
        #expect(error?.description.contains(words) == true, "\(error?.description ?? "no error")", sourceLocation: sourceLocation)
    }

    @Test func decodeRejectsWhatTallyDoesNotWrite() {
        let markerValue = ChangelogMarker(checkpoint: 1, nextOffset: 5, watermark: 7, closedThrough: nil, spillSequence: 0).encoded
        #expect(markerValue.count == 42)
        #expect((try? ChangelogRecord.decode(key: [0], value: markerValue, checkpoint: 1)) != nil)

        Self.rejects([], Self.doubles(1), saying: "empty key")
        Self.rejects([], nil, saying: "empty key")
        Self.rejects([0x02] + Self.slice("ab", 0).dropFirst(), Self.doubles(1), saying: "closed-results key of 11 bytes, expected 10")
        Self.rejects(Array(Self.closed(0, 1).dropLast()), Self.doubles(1), saying: "closed-results key of 9 bytes, expected 10")
        Self.rejects([0x05, 1, 2], [], saying: "expiry key of 3 bytes, expected 1")
        Self.rejects([0x05], Array(repeating: 0, count: 7), saying: "expiry with a value of 7 bytes, expected 8")
        Self.rejects([0x05], nil, saying: "expiry with a value of 0 bytes, expected 8")
        Self.rejects([0x06], nil, saying: "applied offsets of 0 bytes, expected a multiple of 20")
        Self.rejects([0x06], Array(repeating: 1, count: 19), saying: "applied offsets of 19 bytes, expected a multiple of 20")
        Self.rejects([0x06, 0], Array(repeating: 1, count: 20), saying: "applied-offsets key of 2 bytes, expected 1")
        Self.rejects([0x07], nil, saying: "unknown key byte 0x7")
        Self.rejects([0xff], nil, saying: "unknown key byte 0xff")

        // Markers.
        Self.rejects([0], Array(markerValue.dropLast()), saying: "41 bytes, expected 42")
        Self.rejects([0], markerValue + [0], saying: "43 bytes, expected 42")
        Self.rejects([0], [], saying: "empty value")
        Self.rejects([0], nil, saying: "marker without a value")
        Self.rejects([0], [2] + markerValue.dropFirst(), saying: "unknown version 2")
        Self.rejects([0], [0] + markerValue.dropFirst(), saying: "unknown version 0")
        Self.rejects([2] + [UInt8](repeating: 0, count: 50), nil, saying: "closed-results key of 51 bytes")
        Self.rejects([0, 0], markerValue, saying: "marker key of 2 bytes")
        Self.rejects([0], markerValue, checkpoint: 2, saying: "marker of checkpoint 1 under header checkpoint 2")
        var flags = markerValue
        flags[1] = 0x05
        Self.rejects([0], flags, saying: "unknown flags 0x5")
        var absent = markerValue
        absent[1] = 0  // watermark 7 written but marked absent
        Self.rejects([0], absent, saying: "marked absent")

        // dropSpilled.
        let drop = ChangelogRecord.dropSpilled(slice: 60_000).encode(checkpoint: 1).key
        Self.rejects(Array(drop.dropLast()), [], saying: "dropSpilled key of 16 bytes, expected 17")
        Self.rejects(drop + [0], [], saying: "dropSpilled key of 18 bytes, expected 17")
        Self.rejects([0x04], [], saying: "dropSpilled key of 1 bytes")
        Self.rejects(drop, [], checkpoint: 2, saying: "dropSpilled key of checkpoint 1 under header checkpoint 2")
        Self.rejects(drop, [1], saying: "dropSpilled with a value of 1 bytes")

        // Local keys too short for their layout.
        Self.rejects(Array(Self.slice("", 0).dropLast()), Self.doubles(1), saying: "slice key of 8 bytes")
        Self.rejects(Array(Self.part("ab", 0, 1).dropLast()), Self.doubles(1), saying: "spilled-part key of 22 bytes for a group key of 2, expected 23")
        Self.rejects(Self.part("ab", 0, 1) + [0], nil, saying: "spilled-part key of 24 bytes")
        Self.rejects(Array(Self.part("", 0, 1).prefix(20)), nil, saying: "spilled-part key of 20 bytes, expected at least 21")

        // A missing or damaged checkpoint header.
        Self.rejects(Self.slice("a", 0), Self.doubles(1), checkpoint: nil, saying: "without a tally.checkpoint header")
        Self.rejects([0], markerValue, checkpoint: nil, saying: "without a tally.checkpoint header")
        let missing = #expect(throws: StateError.self) {
            try ChangelogMessage(key: [0], value: markerValue, checkpointHeader: nil)
        }
        #expect(missing?.description.contains("without a tally.checkpoint header") == true)
        let short = #expect(throws: StateError.self) {
            try ChangelogMessage(key: [0], value: markerValue, checkpointHeader: [1, 0, 0, 0, 0, 0, 0])
        }
        #expect(short?.description.contains("header of 7 bytes, expected 8") == true)
    }

    // MARK: Restore

    @Test func aCheckpointCutShortLeavesTheStateOfTheOneBefore() throws {
        let a = Self.slice("a", 0), b = Self.slice("b", 0), c = Self.slice("c", 60_000), d = Self.part("d", 0, 1)
        var restore = ChangelogRestore()
        #expect(restore.finish().marker == nil)
        #expect(restore.finish().entries.isEmpty)
        try Self.feed(&restore, 1, [.put(key: a, value: Self.doubles(1)), .put(key: b, value: Self.doubles(2))])
        try Self.feed(&restore, 2, [.put(key: a, value: Self.doubles(10)), .put(key: c, value: Self.doubles(3))])
        let afterSecond = Self.state(restore)
        try Self.feed(&restore, 3, [
            .put(key: a, value: Self.doubles(100)), .delete(key: b), .put(key: d, value: Self.doubles(4)), .dropSpilled(slice: 0),
        ], complete: false)
        #expect(afterSecond == [a: Self.doubles(10), b: Self.doubles(2), c: Self.doubles(3)])
        #expect(Self.state(restore) == afterSecond)
        #expect(restore.finish().marker == Self.marker(2))
        #expect(restore.lastMarker == Self.marker(2))
        #expect(restore.records == 10)
        #expect(restore.applied == 6)
        #expect(restore.discarded == 0)
        #expect(restore.pending == 4)
    }

    @Test func laterCheckpointsOverwritePutsAndDeletesRemove() throws {
        let a = Self.slice("a", 0), b = Self.part("b", 0, 1), c = Self.slice("c", 0)
        var restore = ChangelogRestore()
        try Self.feed(&restore, 1, [.put(key: a, value: Self.doubles(1)), .put(key: b, value: Self.doubles(2)), .put(key: c, value: Self.doubles(3))])
        try Self.feed(&restore, 2, [.put(key: a, value: Self.doubles(5)), .delete(key: b), .put(key: a, value: Self.doubles(6))])
        #expect(Self.state(restore) == [a: Self.doubles(6), c: Self.doubles(3)])
        // A delete then a put of the same key in one checkpoint: the put stands; and the reverse.
        try Self.feed(&restore, 3, [.delete(key: c), .put(key: c, value: Self.doubles(7)), .put(key: b, value: Self.doubles(8)), .delete(key: b)])
        #expect(Self.state(restore) == [a: Self.doubles(6), c: Self.doubles(7)])
        // Deleting a key that is not there is harmless.
        try Self.feed(&restore, 4, [.delete(key: Self.slice("never", 0)), .delete(key: a)])
        #expect(Self.state(restore) == [c: Self.doubles(7)])
        #expect(restore.lastMarker == Self.marker(4))
        #expect(restore.applied == restore.records)
    }

    @Test func dropSpilledRemovesExactlyThePartsOfItsSlice() throws {
        let t: Int64 = -60_000  // before 1970, so the sign flip matters
        let kept = [
            Self.slice("a", t), Self.slice("b", t),  // the slice's accumulators
            Self.part("a", t + 60_000, 1), Self.part("a", t - 60_000, 1),  // neighbouring slices
            Self.part("a", t + 1, 1), Self.part("a", t - 1, 1), Self.part("a", -t, 1),
            Self.slice("a", t + 60_000),
        ]
        let dropped = [Self.part("a", t, 1), Self.part("a", t, 2), Self.part("b", t, 1), Self.part("", t, 0)]
        var restore = ChangelogRestore()
        try Self.feed(&restore, 1, (kept + dropped).enumerated().map { .put(key: $1, value: Self.doubles(Double($0))) })
        #expect(restore.finish().entries.count == kept.count + dropped.count)
        try Self.feed(&restore, 2, [.dropSpilled(slice: t)])
        #expect(Set(Self.state(restore).keys) == Set(kept))
        // A part put after the drop in the same checkpoint stays; one put before it goes.
        try Self.feed(&restore, 3, [
            .put(key: Self.part("a", t, 3), value: Self.doubles(1)), .dropSpilled(slice: t),
            .put(key: Self.part("a", t, 4), value: Self.doubles(2)),
        ])
        #expect(Set(Self.state(restore).keys) == Set(kept + [Self.part("a", t, 4)]))
        // A deleted part does not come back; dropping a slice without parts changes nothing.
        try Self.feed(&restore, 4, [.delete(key: Self.part("a", t, 4)), .dropSpilled(slice: t), .dropSpilled(slice: 12_345)])
        #expect(Set(Self.state(restore).keys) == Set(kept))
    }

    @Test func expireClosedRemovesTheBucketsOfEarlierWindowsOnly() throws {
        let starts: [Int64] = [-120_000, -60_000, -1, 0, 1, 60_000]  // before 1970 too: the sign flip matters
        let all = starts.flatMap { t in [Self.closed(t, 0), Self.closed(t, 63)] }
        let others = [Self.slice("a", -120_000), Self.part("a", -120_000, 1)]
        var restore = ChangelogRestore()
        try Self.feed(&restore, 1, (all + others).enumerated().map { .put(key: $1, value: Self.doubles(Double($0))) })
        try Self.feed(&restore, 2, [.expireClosed(before: 0)])
        #expect(Set(Self.state(restore).keys) == Set(all.filter { Self.start($0) >= 0 } + others))
        // An earlier cutoff changes nothing; a bucket put after the expiry in the same checkpoint
        // stays (as in the local write: ranges, then puts), one put before it goes.
        try Self.feed(&restore, 3, [
            .put(key: Self.closed(-60_000, 1), value: Self.doubles(1)), .expireClosed(before: -1),
            .put(key: Self.closed(-60_000, 2), value: Self.doubles(2)), .expireClosed(before: -120_000),
        ])
        #expect(Set(Self.state(restore).keys) == Set(all.filter { Self.start($0) >= 0 } + others + [Self.closed(-60_000, 2)]))
        try Self.feed(&restore, 4, [.delete(key: Self.closed(1, 0)), .expireClosed(before: 60_001)])
        #expect(Set(Self.state(restore).keys) == Set(others))
    }

    static func start(_ closedKey: [UInt8]) -> Int64 { closedKey.withUnsafeBytes { StateKeys.readTime($0, at: 1) } }

    @Test func aCutShortCheckpointIsNotAppliedByTheNextOnesMarker() throws {
        let a = Self.slice("a", 0), x = Self.slice("x", 0), y = Self.slice("y", 0), p = Self.part("p", 0, 1)
        var restore = ChangelogRestore()
        try Self.feed(&restore, 1, [.put(key: a, value: Self.doubles(1)), .put(key: p, value: Self.doubles(1))])
        // Checkpoint 2 is cut short by a crash; the restarted writer goes on with checkpoint 3,
        // which touches none of 2's keys.
        try Self.feed(&restore, 2, [
            .put(key: x, value: Self.doubles(2)), .delete(key: a), .dropSpilled(slice: 0),
        ], complete: false)
        try Self.feed(&restore, 3, [.put(key: y, value: Self.doubles(3))])
        #expect(Self.state(restore) == [a: Self.doubles(1), p: Self.doubles(1), y: Self.doubles(3)])
        #expect(restore.lastMarker == Self.marker(3))
        #expect(restore.discarded == 3)
        #expect(restore.pending == 0)
        #expect(restore.applied == 5)
        // A marker of checkpoint 2 arriving late finds nothing held for it.
        restore.apply(.marker(Self.marker(2)), checkpoint: 2)
        #expect(Self.state(restore) == [a: Self.doubles(1), p: Self.doubles(1), y: Self.doubles(3)])
    }

    @Test func entriesComeInUnsignedByteOrder() throws {
        let keys = [
            Self.slice("b", 60_000), Self.slice("a", 60_000), Self.slice("a", -60_000), Self.slice("\u{e9}", 60_000),
            Self.part("a", -60_000, 2), Self.part("a", -60_000, 1), Self.part("a", 0, 0x80), Self.part("a", 0, 1),
        ]
        var restore = ChangelogRestore()
        try Self.feed(&restore, 1, keys.map { .put(key: $0, value: Self.doubles(1)) })
        let got = restore.finish().entries.map(\.key)
        #expect(got == [
            Self.slice("a", -60_000), Self.slice("a", 60_000), Self.slice("b", 60_000), Self.slice("\u{e9}", 60_000),
            Self.part("a", -60_000, 1), Self.part("a", -60_000, 2), Self.part("a", 0, 1), Self.part("a", 0, 0x80),
        ])
    }

    /// Random checkpoints, some cut short at a random point, against a plain model: the
    /// operations of the complete checkpoints replayed onto a dictionary.
    @Test(arguments: [UInt64(1), 0xC0FFEE, 0x5EED_2026])
    func restoreMatchesReplayingTheCompleteCheckpoints(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let groups = (0..<12).map { "g\($0)" } + ["", "\u{e9}t\u{e9}"]
        let slices: [Int64] = [-120_000, -60_000, -1, 0, 1, 60_000, 120_000]
        var keys: [[UInt8]] = []
        for g in groups {
            for s in slices {
                keys.append(Self.slice(g, s))
                for p in 0..<3 { keys.append(Self.part(g, s, Int64(p))) }
            }
        }
        for s in slices { keys += [Self.closed(s, 0), Self.closed(s, 31), Self.closed(s, 63)] }
        #expect(keys.count == 413)

        var restore = ChangelogRestore()
        var committed: [[ChangelogRecord]] = []  // the operations of each complete checkpoint
        var lastComplete: UInt64?
        var records = 0, cutShort = 0
        var id = UInt64(rng.int(0...1000))
        while records < 4000 {
            id += UInt64(rng.int(1...3))
            var ops: [ChangelogRecord] = []
            for _ in 0..<rng.int(0...40) {
                switch rng.below(10) {
                case 0..<6: ops.append(.put(key: rng.pick(keys), value: Self.doubles(Double(rng.int(0...9)), Double(records))))
                case 6..<9: ops.append(.delete(key: rng.pick(keys)))
                case 9 where rng.chance(0.5): ops.append(.expireClosed(before: rng.pick(slices + [30_000, .min, .max])))
                default: ops.append(.dropSpilled(slice: rng.pick(slices + [30_000])))
                }
            }
            let complete = !rng.chance(0.25)
            if !complete {
                ops = Array(ops.prefix(rng.below(ops.count + 1)))
                cutShort += 1
            } else {
                committed.append(ops)
                lastComplete = id
            }
            try Self.feed(&restore, id, ops, complete: complete)
            records += ops.count + (complete ? 1 : 0)

            #expect(restore.records == records)
            #expect(restore.records == restore.applied + restore.discarded + restore.pending)
            if complete {
                #expect(restore.applied == committed.reduce(0) { $0 + $1.count + 1 })
                try Self.compare(restore, Self.replay(committed), lastComplete)
            }
        }
        try Self.compare(restore, Self.replay(committed), lastComplete)
        #expect(cutShort > 10)
        #expect(committed.count > 50)
    }

    /// The model: each operation of each complete checkpoint in turn, on a dictionary.
    static func replay(_ checkpoints: [[ChangelogRecord]]) -> [[UInt8]: [UInt8]] {
        var state: [[UInt8]: [UInt8]] = [:]
        for ops in checkpoints {
            for op in ops {
                switch op {
                case .put(let key, let value): state[key] = value
                case .delete(let key): state[key] = nil
                case .dropSpilled(let slice):
                    let flipped = UInt64(bitPattern: slice) ^ 0x8000_0000_0000_0000
                    let prefix: [UInt8] = [0x03] + (0..<8).map { UInt8(truncatingIfNeeded: flipped >> (56 - 8 * UInt64($0))) }
                    state = state.filter { !$0.key.starts(with: prefix) }
                case .expireClosed(let before):
                    state = state.filter { $0.key.first != 0x02 || start($0.key) >= before }
                case .marker: break
                }
            }
        }
        return state
    }

    static func compare(
        _ restore: ChangelogRestore, _ model: [[UInt8]: [UInt8]], _ lastComplete: UInt64?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (entries, marker) = restore.finish()
        let expected = model.sorted { before($0.key, $1.key) }
        try #require(entries.count == expected.count, sourceLocation: sourceLocation)
        #expect(entries.map(\.key) == expected.map(\.key), sourceLocation: sourceLocation)
        #expect(entries.map(\.value) == expected.map(\.value), sourceLocation: sourceLocation)
        #expect(marker == lastComplete.map { Self.marker($0) }, sourceLocation: sourceLocation)
    }
}
