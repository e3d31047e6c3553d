import Testing

@testable import RocksDB

@Test func batchAcrossTwoFamiliesIsDurableAfterReopen() throws {
    try withTemporaryFolder { folder in
        let path = folder + "/db"
        do {
            let database = try Database(path: path, columnFamilies: ["_meta", "clicks"])
            let meta = try #require(database.columnFamily(named: "_meta"))
            let clicks = try #require(database.columnFamily(named: "clicks"))
            try database.put(clicks, bytes("stale"), bytes("x"))
            let batch = WriteBatch()
            try batch.put(clicks, bytes("window"), [0, 0, 0, 7])
            try batch.put(meta, bytes("offset/events/0"), [0, 42])
            try batch.delete(clicks, bytes("stale"))
            #expect(batch.count == 3)
            try database.write(batch, sync: true)
            database.close()
        }
        let database = try Database(path: path, columnFamilies: ["_meta", "clicks"])
        let meta = try #require(database.columnFamily(named: "_meta"))
        let clicks = try #require(database.columnFamily(named: "clicks"))
        #expect(try database.get(clicks, bytes("window")) == [0, 0, 0, 7])
        #expect(try database.get(meta, bytes("offset/events/0")) == [0, 42])
        #expect(try database.get(clicks, bytes("stale")) == nil)
    }
}

@Test func batchWritesNothingUntilWritten() throws {
    try withTemporaryFolder { folder in
        let database = try Database(path: folder + "/db", columnFamilies: ["state"])
        let state = try #require(database.columnFamily(named: "state"))
        let batch = WriteBatch()
        try batch.put(state, bytes("k"), bytes("v"))
        #expect(try database.get(state, bytes("k")) == nil)
        batch.clear()
        #expect(batch.count == 0)
        try database.write(batch, sync: false)
        #expect(try database.get(state, bytes("k")) == nil)
    }
}

@Test func batchDeleteRangeRemovesExpiredWindows() throws {
    try withTemporaryFolder { folder in
        let database = try Database(path: folder + "/db", columnFamilies: ["state"])
        let state = try #require(database.columnFamily(named: "state"))
        for byte: UInt8 in 0..<6 { try database.put(state, [1, byte], [byte]) }
        let batch = WriteBatch()
        try batch.deleteRange(state, from: [1, 0], to: [1, 4])
        try batch.put(state, [2, 0], [9])
        try database.write(batch, sync: true)
        let keys = try (0..<6).filter { try database.get(state, [1, UInt8($0)]) != nil }
        #expect(keys == [4, 5])
        #expect(try database.get(state, [2, 0]) == [9])
    }
}

@Test func rawBufferOverloadsStoreTheSameBytes() throws {
    try withTemporaryFolder { folder in
        let database = try Database(path: folder + "/db", columnFamilies: ["state"])
        let state = try #require(database.columnFamily(named: "state"))
        let batch = WriteBatch()
        let key: [UInt8] = [0, 1, 2]
        let value: [UInt8] = [0xFF, 0]
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in try batch.put(state, key, value) }
        }
        try database.write(batch, sync: false)
        #expect(try database.get(state, key) == value)
    }
}

@Test func batchMixingDatabasesIsRefused() throws {
    try withTemporaryFolder { folder in
        let first = try Database(path: folder + "/one", columnFamilies: ["state"])
        let second = try Database(path: folder + "/two", columnFamilies: ["state"])
        let batch = WriteBatch()
        try batch.put(try #require(first.columnFamily(named: "state")), bytes("k"), bytes("v"))
        #expect(throws: RocksDBError.self) {
            try batch.put(try #require(second.columnFamily(named: "state")), bytes("k"), bytes("v"))
        }
        #expect(throws: RocksDBError.self) { try second.write(batch, sync: false) }
    }
}
