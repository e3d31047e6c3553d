#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Detached OS threads and a condition variable, straight from pthreads: the engine needs
/// nothing more, and leaving Foundation's `Thread`/`NSCondition` out keeps full Foundation (and
/// its 34 MB of ICU data) out of the executable.
public enum OSThread {
    /// Runs `body` on a new detached thread named `name` (Linux keeps names of up to 15 bytes);
    /// returns the pthread error when the thread cannot start.
    @discardableResult
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
        let context = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, threadMain, context)
        if rc == 0 { pthread_detach(thread) }
        #else
        var thread: pthread_t? = nil
        let rc = pthread_create(&thread, nil, threadMain, context)
        if rc == 0 { pthread_detach(thread!) }
        #endif
        if rc != 0 { Unmanaged<ThreadStart>.fromOpaque(context).release() }
        return rc
    }

    /// Names the calling thread (what `top -H` and `perf` show). Glibc's `pthread_setname_np` is
    /// not visible to Swift; Linux takes the name through `/proc/thread-self/comm` as well.
    static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        var bytes = Array(name.utf8.prefix(15))
        _ = write(fd, &bytes, bytes.count)
        close(fd)
        #else
        _ = pthread_setname_np(name)
        #endif
    }

    /// Sleeps the calling thread for `milliseconds`.
    static func sleep(milliseconds: Int) {
        usleep(useconds_t(max(0, milliseconds) * 1000))
    }
}

private final class ThreadStart: Sendable {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
}

private func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
    OSThread.nameCurrentThread(start.name)
    start.body()
    return nil
}

/// A mutex with a condition variable (what `NSCondition` gives): lock, wait until signalled,
/// broadcast. The pthread objects live at fixed addresses for the object's lifetime.
final class ThreadCondition: @unchecked Sendable {
    // Safe to share: pthread mutexes and condition variables are made for it.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for a broadcast; call with the lock held (it is held again on return).
    func wait() { pthread_cond_wait(cond, mutex) }
    func broadcast() { pthread_cond_broadcast(cond) }
}
