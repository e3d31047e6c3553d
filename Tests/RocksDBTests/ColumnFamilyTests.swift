import Testing

@testable import RocksDB

@Test func createdFamilyIsUsableAndSurvivesReopen() throws {
    try withTemporaryFolder { folder in
        let path = folder + "/db"
        do {
            let database = try Database(path: path)
            let family = try database.createColumnFamily(named: "later")
            #expect(try database.createColumnFamily(named: "later") === family)
            try database.put(family, bytes("k"), bytes("v"))
        }
        let database = try Database(path: path)
        let family = try #require(database.columnFamily(named: "later"))
        #expect(try database.get(family, bytes("k")) == bytes("v"))
    }
}

@Test func droppingFamilyRemovesItAndItsData() throws {
    try withTemporaryFolder { folder in
        let path = folder + "/db"
        do {
            let database = try Database(path: path, columnFamilies: ["reset", "kept"])
            let reset = try #require(database.columnFamily(named: "reset"))
            try database.put(reset, bytes("k"), bytes("v"))
            try database.dropColumnFamily(reset)
            #expect(!reset.isOpen)
            #expect(database.columnFamily(named: "reset") == nil)
            #expect(throws: RocksDBError.self) { try database.get(reset, bytes("k")) }
        }
        let database = try Database(path: path, columnFamilies: ["reset"])
        let fresh = try #require(database.columnFamily(named: "reset"))
        #expect(try database.get(fresh, bytes("k")) == nil)
    }
}

@Test func droppingDefaultFamilyThrows() throws {
    try withTemporaryFolder { folder in
        let database = try Database(path: folder + "/db")
        let error = #expect(throws: RocksDBError.self) { try database.dropColumnFamily(named: "default") }
        #expect(error?.operation.contains("drop column family default") == true)
    }
}

@Test func familyOfAnotherDatabaseIsRefused() throws {
    try withTemporaryFolder { folder in
        let first = try Database(path: folder + "/one", columnFamilies: ["state"])
        let second = try Database(path: folder + "/two", columnFamilies: ["state"])
        let foreign = try #require(first.columnFamily(named: "state"))
        #expect(throws: RocksDBError.self) { try second.put(foreign, bytes("k"), bytes("v")) }
    }
}
