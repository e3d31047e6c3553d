import Foundation
import Testing

/// The state folder goes wrong: missing, read-only, full, or damaged (truncated MANIFEST or
/// table file). Each gives a clear error naming the way out (exit 1, no crash trace), and the
/// way out works: nothing is lost or counted twice once it is taken. Read-only and full
/// volumes are small tmpfs mounts, so those tests need root (as CI and this machine have).
@Suite(.serialized) struct StateFolderFaultTests {
    static let isRoot = getuid() == 0

    struct Setup {
        let dir: TemporaryFolder
        let broker: TestBroker
        let bootstrap: String
        let definition: String
        let http = freePort()
        let lines = FaultInjectionTests.workload(4_000, seed: 31)

        init() throws {
            dir = try TemporaryFolder("tally-disk-faults")
            broker = try TestBroker(topics: ["orders:1", "fi_tumbling_out:1", "fi_tumbling_out.dlq:1"], in: dir.url)
            bootstrap = broker.bootstrap
            definition = dir.url.appendingPathComponent("tumbling.json").path
            try FaultInjectionTests.tumbling.write(toFile: definition, atomically: true, encoding: .utf8)
        }

        func produce(_ lines: ArraySlice<String>, name: String) throws {
            try TallyBinary.produce(lines, bootstrap: bootstrap, in: dir.url, name: name)
        }

        func engine(_ state: String, name: String) throws -> ChildProcess {
            try ChildProcess(
                ["run", "--queries", definition, "--bootstrap", bootstrap, "--state", state,
                 "--http", "127.0.0.1:\(http)", "--checkpoint-interval", "200ms", "--idle-timeout", "60s"],
                in: dir.url, name: name)
        }

        /// Waits until the definition has read `count` events; its status then.
        func waitRead(_ count: Int, timeout: Double = 60) -> [String: Any]? {
            let deadline = Date().addingTimeInterval(timeout)
            var s: [String: Any]?
            repeat {
                s = (try? HTTPGet.get("http://127.0.0.1:\(http)/queries/fi_tumbling"))?.json as? [String: Any]
                if FaultInjectionTests.read(s) == count { return s }
                Thread.sleep(forTimeInterval: 0.2)
            } while Date() < deadline
            return s
        }

        /// Counters equal to the reference over `lines`: nothing lost, nothing counted twice.
        func expectExact(_ s: [String: Any]?, _ lines: [String]) {
            let ref = FaultInjectionTests.queries(lines)[0].reference
            #expect(FaultInjectionTests.read(s) == lines.count)
            #expect((s?["events"] as? NSNumber)?.intValue == ref.outcomes["counted"])
            #expect((s?["late"] as? NSNumber)?.intValue == ref.outcomes["late", default: 0])
        }
    }

    /// A clean refusal: exit status 1 (not a signal), the message, and no crash trace.
    static func expectRefusal(_ p: ChildProcess, mentioning words: [String]) {
        #expect(p.wait(timeout: 60) == 1, "\(p.stderr.suffix(1500))")
        #expect(!p.wasKilled)
        for w in words { #expect(p.stderr.contains(w), "stderr lacks \(w): \(p.stderr.suffix(1500))") }
        for trace in ["Fatal error", "Stack dump", "rocksdb::", "libc.so", "Segmentation"] {
            #expect(!p.stderr.contains(trace), "a crash trace in stderr: \(p.stderr.suffix(1500))")
        }
    }

    static func mount(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("mount \(args) failed") }
    }

    static func umount(_ path: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/umount")
        p.arguments = ["-l", path]
        try? p.run()
        p.waitUntilExit()
    }

    @Test func aMissingFolderIsCreatedWithItsParents() async throws {
        try await onOwnThread { try Self().aMissingFolderIsCreatedWithItsParentsBody() }
    }

    func aMissingFolderIsCreatedWithItsParentsBody() throws {
        let setup = try Setup()
        try setup.produce(setup.lines[...], name: "all")
        let state = setup.dir.url.appendingPathComponent("not/there/yet/state").path
        let engine = try setup.engine(state, name: "engine")
        setup.expectExact(setup.waitRead(setup.lines.count), setup.lines)
        #expect(FileManager.default.fileExists(atPath: state + "/CURRENT"))
        engine.signal(SIGTERM)
        #expect(engine.wait() == 0)
    }

    @Test(.enabled(if: isRoot, "mounting a read-only volume needs root"))
    func aReadOnlyFolderIsRefusedClearly() async throws {
        try await onOwnThread { try Self().aReadOnlyFolderIsRefusedClearlyBody() }
    }

    func aReadOnlyFolderIsRefusedClearlyBody() throws {
        let setup = try Setup()
        let volume = setup.dir.url.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: volume + "/state", withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs", volume])
        defer { Self.umount(volume) }
        try FileManager.default.createDirectory(atPath: volume + "/state", withIntermediateDirectories: true)
        try Self.mount(["-o", "remount,ro", volume])
        Self.expectRefusal(try setup.engine(volume + "/state", name: "existing"), mentioning: ["is not writable", "--state"])
        Self.expectRefusal(try setup.engine(volume + "/new", name: "new"), mentioning: ["cannot create state folder", "Read-only file system"])
    }

    @Test(.enabled(if: isRoot, "mounting a small volume needs root"))
    func aFullVolumeStopsTheEngineAndFreeingSpaceResumesIt() async throws {
        try await onOwnThread { try Self().aFullVolumeStopsTheEngineAndFreeingSpaceResumesItBody() }
    }

    func aFullVolumeStopsTheEngineAndFreeingSpaceResumesItBody() throws {
        let setup = try Setup()
        let volume = setup.dir.url.appendingPathComponent("small").path
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=2m", "tmpfs", volume])
        defer { Self.umount(volume) }
        let half = setup.lines.count / 2
        try setup.produce(setup.lines[..<half], name: "first")
        let first = try setup.engine(volume + "/state", name: "first")
        #expect(setup.waitRead(half) != nil)
        // Fill the volume, then give the engine more to checkpoint.
        let filler = volume + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        let block = Data(count: 64 * 1024)
        while (try? h.write(contentsOf: block)) != nil {}
        try? h.close()
        try setup.produce(setup.lines[half...], name: "second")
        Self.expectRefusal(first, mentioning: ["No space left on device", "Free space on that volume"])

        // The way out: free space, start again. It resumes from its last checkpoint.
        try FileManager.default.removeItem(atPath: filler)
        let again = try setup.engine(volume + "/state", name: "again")
        setup.expectExact(setup.waitRead(setup.lines.count), setup.lines)
        again.signal(SIGTERM)
        #expect(again.wait() == 0, "\(again.stderr.suffix(1500))")
    }

    @Test(arguments: ["MANIFEST-", ".sst"])
    func aDamagedFolderIsRefusedAndMovingItAwayRebuildsTheState(_ damaged: String) async throws {
        try await onOwnThread { try Self().aDamagedFolderIsRefusedAndMovingItAwayRebuildsTheStateBody(damaged) }
    }

    func aDamagedFolderIsRefusedAndMovingItAwayRebuildsTheStateBody(_ damaged: String) throws {
        let setup = try Setup()
        try setup.produce(setup.lines[...], name: "all")
        let state = setup.dir.url.appendingPathComponent("state").path
        let first = try setup.engine(state, name: "first")
        #expect(setup.waitRead(setup.lines.count) != nil)
        first.signal(SIGTERM)  // a clean stop writes table files, so there is an .sst to damage
        #expect(first.wait() == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: state)
        let victim = try #require(files.first { $0.contains(damaged) }, "no \(damaged) file in \(files)")
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: state + "/" + victim))
        try h.truncate(atOffset: 20)
        try h.close()
        Self.expectRefusal(try setup.engine(state, name: "damaged"), mentioning: ["Corruption", "move it away"])

        // The way out: move the folder away; the state is recomputed from Kafka, exactly.
        try FileManager.default.moveItem(atPath: state, toPath: state + ".damaged")
        let rebuilt = try setup.engine(state, name: "rebuilt")
        setup.expectExact(setup.waitRead(setup.lines.count), setup.lines)
        rebuilt.signal(SIGTERM)
        #expect(rebuilt.wait() == 0)
    }
}
