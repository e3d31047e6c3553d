import Dispatch
import Kafka

/// The loop's emit step, run on a thread of its own: each definition's results are handed over
/// in the loop's order; this thread encodes them and gives them to the producer in that order.
/// Measured live, the output path is ~45% of the loop's time when it runs inline; here it
/// overlaps with decoding.
///
/// A checkpoint calls `drain()` first: it returns once every result handed over is with the
/// producer, so the producer flush that follows covers all of them.
final class OutputStage: @unchecked Sendable {
    // Safe to share: the fields below are guarded by `condition`.
    private struct Job {
        var runtime: Int
        var results: ResultBatch
    }

    /// Most results waiting for this thread before `submit` waits (bounds the memory they hold).
    static let maxWaiting = 25_000

    private let runtimes: [DefinitionRuntime]
    private let producer: Producer
    private let condition = ThreadCondition()
    private var queue: [Job] = []
    private var waiting = 0
    private var working = false
    private var stopping = false
    private var failure: Error?
    private var spare: [ResultBatch] = []
    private let finished = DispatchSemaphore(value: 0)

    init(runtimes: [DefinitionRuntime], producer: Producer) {
        self.runtimes = runtimes
        self.producer = producer
    }

    /// Starts the thread.
    func start() {
        OSThread.start(name: "tally-output") { [self] in run() }
    }

    /// Stops the thread after the results already handed over; returns when it has ended.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    /// Hands over the results of runtime `index`, leaving `results` empty. Waits while too many results are
    /// waiting; throws the error that stopped the output thread, if any.
    func submit(_ index: Int, _ results: inout ResultBatch) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting >= Self.maxWaiting && failure == nil { condition.wait() }
        if let failure { throw failure }
        // The emptied batch left behind is one the output thread is done with, if any.
        var taken = spare.last?.width == results.width ? spare.removeLast() : ResultBatch(width: results.width)
        swap(&taken, &results)
        waiting += taken.count
        queue.append(Job(runtime: index, results: taken))
        condition.broadcast()
    }

    /// Waits until every result handed over is with the producer.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        while (working || !queue.isEmpty) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    private func run() {
        var jobs: [Job] = []
        var key: [UInt8] = [], value: [UInt8] = []
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                finished.signal()
                return
            }
            swap(&jobs, &queue)
            working = true
            condition.unlock()
            var error: Error?
            var sent = 0
            for i in jobs.indices where error == nil {
                do {
                    try send(jobs[i], key: &key, value: &value)
                    FailPoint.hit("emitted")
                } catch let e {
                    error = e
                }
                sent += jobs[i].results.count
                jobs[i].results.removeAll()
            }
            condition.lock()
            waiting -= sent
            for j in jobs where j.results.isEmpty && j.results.hasCapacity && spare.count < 64 { spare.append(j.results) }
            jobs.removeAll(keepingCapacity: true)
            if let error, failure == nil { failure = error }
            working = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func send(_ job: Job, key: inout [UInt8], value: inout [UInt8]) throws {
        let rt = runtimes[job.runtime]
        let results = job.results
        for i in results.indices {
            value.removeAll(keepingCapacity: true)
            rt.encoder.encode(results, i, into: &value)
            key.removeAll(keepingCapacity: true)
            rt.encoder.messageKey(results, i, into: &key)
            try producer.produce(topic: rt.definition.output, key: key, value: value)
        }
    }
}
