import Testing
@testable import RocksDB

@Test func errorNamesOperationAndReason() {
    #expect(RocksDBError("open /x", "IO error").description == "open /x: IO error")
}
