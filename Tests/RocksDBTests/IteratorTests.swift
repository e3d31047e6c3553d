import Testing

@testable import RocksDB

/// A database with keys [0], [1, 0], [1, 1], [1, 0xFF], [2], [0xFF] in family "state".
private func withScanData(_ body: (Database, ColumnFamily) throws -> Void) throws {
    try withTemporaryFolder { folder in
        let database = try Database(path: folder + "/db", columnFamilies: ["state"])
        let state = try #require(database.columnFamily(named: "state"))
        for key: [UInt8] in [[2], [1, 0xFF], [0xFF], [1, 0], [0], [1, 1]] {
            try database.put(state, key, key.map { ~$0 })
        }
        try body(database, state)
    }
}

private func keys(of iterator: RocksDB.Iterator) throws -> [[UInt8]] {
    var keys: [[UInt8]] = []
    while iterator.isValid {
        keys.append(iterator.key)
        #expect(iterator.value == iterator.key.map { ~$0 })
        iterator.next()
    }
    try iterator.checkStatus()
    return keys
}

@Test func iteratorVisitsKeysInByteOrder() throws {
    try withScanData { database, state in
        let iterator = try database.iterator(state)
        iterator.seekToFirst()
        #expect(try keys(of: iterator) == [[0], [1, 0], [1, 1], [1, 0xFF], [2], [0xFF]])
    }
}

@Test func seekLandsOnFirstKeyAtOrAfterTarget() throws {
    try withScanData { database, state in
        let iterator = try database.iterator(state)
        iterator.seek(to: [1, 2])
        #expect(iterator.key == [1, 0xFF])
        iterator.seekToLast()
        #expect(iterator.key == [0xFF])
        iterator.next()
        #expect(!iterator.isValid)
        #expect(iterator.key == [])
    }
}

@Test func rangeScanStopsBeforeUpperBound() throws {
    try withScanData { database, state in
        let iterator = try database.iterator(state, from: [1], to: [2])
        #expect(try keys(of: iterator) == [[1, 0], [1, 1], [1, 0xFF]])
        let open = try database.iterator(state, from: [2], to: nil)
        #expect(try keys(of: open) == [[2], [0xFF]])
    }
}

@Test func prefixScanIncludesKeysEndingInFF() throws {
    try withScanData { database, state in
        let one = try keys(of: database.iterator(state, prefix: [1]))
        let last = try keys(of: database.iterator(state, prefix: [0xFF]))
        let all = try keys(of: database.iterator(state, prefix: []))
        #expect(one == [[1, 0], [1, 1], [1, 0xFF]])
        #expect(last == [[0xFF]])
        #expect(all.count == 6)
    }
}

@Test func prefixSuccessorSkipsTrailingFF() {
    #expect(Database.successor(ofPrefix: [1, 0xFF]) == [2])
    #expect(Database.successor(ofPrefix: [0xFF, 0xFF]) == nil)
    #expect(Database.successor(ofPrefix: []) == nil)
}

@Test func forEachGivesKeysAndValuesWithoutCopies() throws {
    try withScanData { database, state in
        var seen: [[UInt8]] = []
        try database.forEach(in: state, from: [1, 1], to: [0xFF]) { key, value in
            seen.append(Array(key))
            #expect(Array(value) == key.map { ~$0 })
        }
        #expect(seen == [[1, 1], [1, 0xFF], [2]])
    }
}

@Test func iteratorIgnoresWritesAfterSnapshot() throws {
    try withScanData { database, state in
        let snapshot = try database.snapshot()
        try database.put(state, [1, 5], [0])
        try database.delete(state, [0])
        let seen = try keys(of: database.iterator(state, from: [0], to: [2], snapshot: snapshot))
        #expect(seen.count == 4)
        #expect(try database.get(state, [0], snapshot: snapshot) == [0xFF])
        #expect(try database.get(state, [0]) == nil)
    }
}
