#if canImport(Glibc)
import Glibc
#endif

/// Gives the allocator's free memory back to the system.
enum MemoryTrim {
    #if canImport(Glibc)
    private typealias MallocTrim = @convention(c) (Int) -> Int32
    // malloc_trim is in <malloc.h>, which Glibc's module does not export.
    private static let trim: MallocTrim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: MallocTrim.self) }
    #endif

    /// glibc's `malloc_trim(0)`: every arena's free pages, not only those at its top, are
    /// handed back (`madvise`), so memory freed by one thread's burst stops counting in RSS.
    static func release() {
        #if canImport(Glibc)
        _ = trim?(0)
        #endif
    }
}
