#if canImport(Glibc)
import Glibc
#endif

/// Process-wide tuning of glibc's allocator for state under a memory budget.
enum AllocatorTuning {
    /// Blocks of 128 KiB and more get pages of their own, given back when freed. glibc otherwise
    /// raises that threshold (up to 32 MiB) each time a large block is freed, after which large
    /// blocks come from the heap, where freed ones stay: with state spilling under a memory budget
    /// (large buffers made and freed at every checkpoint), 10M keys under a 64 MB budget peaked
    /// at 380 MB of RSS with the moving threshold and 286 MB with this one.
    static func apply() {
        #if canImport(Glibc)
        // mallopt is in <malloc.h>, which Glibc's module does not export.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 128 << 10)
        _ = mallopt(trimThreshold, 128 << 10)
        #endif
    }
}
