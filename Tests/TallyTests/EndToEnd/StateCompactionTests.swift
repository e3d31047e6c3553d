import Foundation
import Testing

/// `tally run` opens RocksDB with compactions off while it restores its state, and turns them on
/// once the state is back: a state that gains a level-0 table file at every clean stop (each stop
/// flushes) is compacted by a later run instead of piling files up.
@Suite(.serialized) struct StateCompactionTests {
    @Test func aRestartedEngineCompactsItsStateAfterTheRestore() async throws {
        try await onOwnThread { try Self().aRestartedEngineCompactsItsStateAfterTheRestoreBody() }
    }

    func aRestartedEngineCompactsItsStateAfterTheRestoreBody() throws {
        let setup = try LiveEngineTests.Setup()
        let lines = TallyTestCommandTests.dataset(count: 12_000, seed: 11)
        let state = setup.dir.url.appendingPathComponent("state")
        // RocksDB logs each compaction of the definition's family as "[q_live] … Compacting N@0 files".
        func compactedLevel0() -> Bool {
            let logs = (try? FileManager.default.contentsOfDirectory(atPath: state.path))?.filter { $0.hasPrefix("LOG") } ?? []
            return logs.contains { name in
                let text = (try? String(contentsOf: state.appendingPathComponent(name), encoding: .utf8)) ?? ""
                return text.split(separator: "\n").contains { $0.contains("[q_live]") && $0.contains("Compacting") && $0.contains("@0") }
            }
        }
        // Six runs, each over new events and stopped cleanly: six level-0 files unless compacted.
        let chunk = lines.count / 6
        var produced = 0
        for run in 0..<6 {
            try setup.produce(Array(lines[(run * chunk)..<((run + 1) * chunk)]), name: "chunk\(run)")
            produced += chunk
            let engine = try setup.engine("run\(run)")
            let deadline = Date().addingTimeInterval(60)
            while setup.read() < produced && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            #expect(setup.read() == produced, "run \(run): \(engine.stderr)")
            Thread.sleep(forTimeInterval: 0.5)
            engine.signal(SIGTERM)
            #expect(engine.wait() == 0, "run \(run): \(engine.stderr)")
        }
        // One more start: if the earlier runs have not compacted the files yet, this one does.
        let last = try setup.engine("last")
        var deadline = Date().addingTimeInterval(60)
        while setup.read() < produced && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        deadline = Date().addingTimeInterval(30)
        while !compactedLevel0() && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        last.signal(SIGTERM)
        #expect(last.wait() == 0, "\(last.stderr)")
        #expect(compactedLevel0(), "no compaction of the state's level-0 files in \(state.path)'s RocksDB logs")
    }
}
