internal import CSQLite
import Dispatch
import Foundation
import Synchronization

/// The single writer of a store: a dedicated thread that owns the write connection.
///
/// Callers enqueue requests and suspend. The thread takes every request queued so far (up to the
/// batch limits), applies them in ONE transaction, commits (one WAL sync in FULL mode), and only
/// then resumes each caller with its own result. Requests that arrive while a commit is syncing
/// wait for the next batch, so the sync rate bounds the number of batches, not of requests.
///
/// The writer connection does not checkpoint inside its commits: `checkpointer` does it on its own
/// thread when the WAL grows (`WALCheckpointer`).
///
/// Thread safety (`@unchecked Sendable`): `connection` and `walLength` are used only by the writer
/// thread once `start()` ran (until it sets `connection` to nil on exit); everything else shared
/// lives in `state`, guarded by its mutex.
final class GroupCommitWriter: @unchecked Sendable {
    private typealias Waiter = CheckedContinuation<Result<Void, StoreError>, Never>

    private struct Pending {
        let operation: WriteOperation
        let resume: @Sendable (Result<Void, StoreError>) -> Void
    }

    private struct State {
        var queue: [Pending] = []
        var writerIdle = false
        var closing = false
        var exited = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var failure: StoreError?
        var health = StoreHealth.ok
        var statistics = StoreStatistics()
        var observer: CommitObserver?
    }

    /// Told after each committed batch: its request count and how long it took from BEGIN to the
    /// end of COMMIT (the WAL sync included), in nanoseconds of the monotonic clock. Runs on the
    /// writer thread: it must be quick (a metrics handler's record).
    typealias CommitObserver = @Sendable (_ requests: Int, _ nanoseconds: UInt64) -> Void

    /// Set to nil by the writer thread as it exits, closing the connection before `close()` returns.
    private var connection: SQLiteConnection?
    private let configuration: StoreConfiguration
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let checkpointer: WALCheckpointer
    private let walLength = WALLength()
    /// The WAL's length at the last inline checkpoint (writer thread only).
    private var lastInlineFrames = 0

    init(connection: SQLiteConnection, checkpointer: WALCheckpointer, configuration: StoreConfiguration) {
        self.connection = connection
        self.checkpointer = checkpointer
        self.configuration = configuration
        connection.observeWAL(walLength)
    }

    func start() {
        checkpointer.start()
        let thread = Thread { [self] in run() }
        thread.name = "paymesh-store-writer"
        thread.start()
    }

    var statistics: StoreStatistics {
        var s = state.withLock { $0.statistics }
        let counts = checkpointer.counts
        s.checkpoints = counts.checkpoints
        s.checkpointFailures = counts.failures
        return s
    }

    var health: StoreHealth { state.withLock { $0.health } }

    func observeCommits(_ observer: @escaping CommitObserver) { state.withLock { $0.observer = observer } }

    /// Enqueues `operation` and returns once it is durable (or refused, or failed).
    func submit(_ operation: WriteOperation) async throws(StoreError) {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            enqueue(operation) { waiter.resume(returning: $0) }
        }
        try result.get()
    }

    /// Enqueues `operation` before returning (requests enqueued one after the other are applied
    /// in that order) and calls `completion` on the writer thread once it is durable (or refused, or failed).
    func enqueue(_ operation: WriteOperation, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        enum Outcome { case queued(wake: Bool), refused(StoreError) }
        let outcome = state.withLock { s -> Outcome in
            if s.closing { return .refused(.closed()) }
            if let failure = s.failure { return .refused(failure) }
            s.queue.append(Pending(operation: operation, resume: completion))
            if s.writerIdle {
                s.writerIdle = false
                return .queued(wake: true)
            }
            return .queued(wake: false)
        }
        switch outcome {
        case .queued(let wake): if wake { wakeup.signal() }
        case .refused(let error): completion(.failure(error))
        }
    }

    /// Enqueues `operations` together, in order, before returning: the writer takes them into one
    /// batch (one commit) unless the batch limits split them. `completion` runs once per operation.
    func enqueue(_ operations: [WriteOperation], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        enum Outcome { case queued(wake: Bool), refused(StoreError) }
        let outcome = state.withLock { s -> Outcome in
            if s.closing { return .refused(.closed()) }
            if let failure = s.failure { return .refused(failure) }
            for operation in operations { s.queue.append(Pending(operation: operation, resume: completion)) }
            if s.writerIdle {
                s.writerIdle = false
                return .queued(wake: true)
            }
            return .queued(wake: false)
        }
        switch outcome {
        case .queued(let wake): if wake { wakeup.signal() }
        case .refused(let error): for _ in operations { completion(.failure(error)) }
        }
    }

    /// Stops accepting requests, lets the writer finish what is queued, and waits for it (and then
    /// the checkpointer) to exit.
    func close() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let (alreadyExited, wake) = state.withLock { s -> (Bool, Bool) in
                if s.exited { return (true, false) }
                s.closing = true
                s.closeWaiters.append(waiter)
                let wake = s.writerIdle
                s.writerIdle = false
                return (false, wake)
            }
            if alreadyExited { waiter.resume() } else if wake { wakeup.signal() }
        }
        await checkpointer.close()
    }

    /// Asks the writer to exit after the queue drains, without waiting (used from `deinit`).
    func requestClose() {
        checkpointer.requestClose()
        let wake = state.withLock { s -> Bool in
            s.closing = true
            let wake = s.writerIdle
            s.writerIdle = false
            return wake
        }
        if wake { wakeup.signal() }
    }

    // MARK: The writer thread

    private func run() {
        while true {
            enum Next { case batch([Pending]), sleep, exit([CheckedContinuation<Void, Never>]) }
            let next = state.withLock { s -> Next in
                if s.queue.isEmpty {
                    if s.closing {
                        s.exited = true
                        defer { s.closeWaiters = [] }
                        return .exit(s.closeWaiters)
                    }
                    s.writerIdle = true
                    return .sleep
                }
                return .batch(takeBatch(&s.queue))
            }
            switch next {
            case .sleep: wakeup.wait()
            case .batch(let batch): commit(batch)
            case .exit(let waiters):
                connection = nil
                waiters.forEach { $0.resume() }
                return
            }
        }
    }

    private func takeBatch(_ queue: inout [Pending]) -> [Pending] {
        var count = 0
        var bytes = 0
        for pending in queue {
            let size = pending.operation.approximateBytes
            if count > 0, count >= configuration.maxBatchRequests || bytes + size > configuration.maxBatchBytes { break }
            count += 1
            bytes += size
        }
        if count == queue.count {
            defer { queue = [] }
            return queue
        }
        let batch = Array(queue[..<count])
        queue.removeFirst(count)
        return batch
    }

    /// Applies a batch in one transaction. Each request runs in its own savepoint: a request that
    /// fails on its own (refused, a constraint, an out-of-range or undecodable value) is rolled back
    /// alone and its caller gets that error, while the rest of the batch commits. A failure of the
    /// file or its environment (disk full, I/O error, lock timeout) aborts the batch: every caller
    /// gets that error, nothing of the batch is written, and the next batch simply tries again — in
    /// WAL mode an aborted commit leaves no trace that a later commit could build on. Only a damaged
    /// file (SQLite reports SQLITE_CORRUPT or SQLITE_NOTADB) stops the writer for good.
    private func commit(_ batch: [Pending]) {
        let db = connection!
        if let failure = state.withLock({ $0.failure }) {
            batch.forEach { $0.resume(.failure(failure)) }
            return
        }
        var results = [Result<Void, StoreError>](repeating: .success(()), count: batch.count)
        var batchError: StoreError?
        // The writer thread is the store's I/O edge: it times its own commits (monotonic clock).
        let began = DispatchTime.now().uptimeNanoseconds
        do {
            // A previous batch that failed mid-way may have left a transaction open.
            if db.isInTransaction { try db.execute("ROLLBACK") }
            try db.run("BEGIN IMMEDIATE")
            for (i, pending) in batch.enumerated() {
                do {
                    try Self.applyAlone(pending.operation, db)
                } catch where !error.isEnvironmentFailure {
                    results[i] = .failure(error) // rolled back to its savepoint: nothing of it was written
                }
            }
            try db.run("COMMIT")
        } catch {
            batchError = error
        }
        if let error = batchError {
            if db.isInTransaction { try? db.execute("ROLLBACK") }
            results = Array(repeating: .failure(error), count: batch.count)
        }
        db.finishStatements()
        let took = DispatchTime.now().uptimeNanoseconds &- began
        LatencyTrace.mark("commit n=\(batch.count) took=\(took)")
        let succeeded = results.reduce(0) { n, r in if case .success = r { n + 1 } else { n } }
        let observer = state.withLock { s -> CommitObserver? in
            if let error = batchError {
                s.statistics.failedBatches += 1
                if Self.isFatal(error) {
                    s.failure = .writerStopped("\(error)")
                    s.health = .stopped(s.failure!)
                } else {
                    s.health = .degraded(error)
                }
            } else {
                s.health = .ok
                s.statistics.commits += 1
                s.statistics.largestBatch = max(s.statistics.largestBatch, batch.count)
            }
            s.statistics.requests += succeeded
            return batchError == nil ? s.observer : nil
        }
        observer?(batch.count, took)
        // Only now, after COMMIT returned, is each request durable: resume the callers.
        for (pending, result) in zip(batch, results) { pending.resume(result) }
        if batchError == nil { checkpointIfDue(db) }
    }

    /// After a commit: 1,000 frames not yet checkpointed get a background checkpoint. The WAL starts
    /// over from its beginning only when a write begins with every frame checkpointed, which under
    /// steady load a background checkpoint seldom achieves (commits keep appending while it runs).
    /// So the writer checkpoints here, between two batches (the callers were resumed already), once
    /// the WAL holds `restartFrames` and the background checkpoints have copied all but
    /// `restartSlack` of them (a few pages to copy and one sync), or at `inlineFrames` in any case.
    private func checkpointIfDue(_ db: SQLiteConnection) {
        let frames = walLength.frames
        let unchecked = checkpointer.unchecked(frames: frames)
        // The WAL started over since the last inline checkpoint when it is shorter than it was then;
        // if it did not (a reader's snapshot held it), the next try waits for `restartFrames` more.
        if frames < lastInlineFrames { lastInlineFrames = 0 }
        if frames >= WALCheckpointer.inlineFrames
            || (frames >= lastInlineFrames + WALCheckpointer.restartFrames && unchecked <= WALCheckpointer.restartSlack)
        {
            lastInlineFrames = frames
            walLength.frames = 0
            if let done = try? db.checkpointPassive() {
                checkpointer.checkpointed(done)
                state.withLock { $0.statistics.inlineCheckpoints += 1 }
            }
        } else if unchecked >= WALCheckpointer.requestFrames {
            checkpointer.request()
        }
    }

    /// Runs one request in a savepoint; on any failure of the request itself rolls back to it and
    /// rethrows (a constraint violation becomes `valueOutOfRange`). Environment failures propagate.
    private static func applyAlone(_ operation: WriteOperation, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("SAVEPOINT op")
        do {
            try operation.apply(to: db)
            try db.run("RELEASE op")
        } catch {
            if error.isEnvironmentFailure { throw error }
            try db.run("ROLLBACK TO op")
            try db.run("RELEASE op")
            if error.sqliteCode == SQLITE_CONSTRAINT { throw .valueOutOfRange("constraint violated: \(error)") }
            throw error
        }
    }

    /// A damaged file: nothing later can be trusted, so the writer refuses all further writes.
    private static func isFatal(_ error: StoreError) -> Bool {
        guard let code = error.sqliteCode else { return error.isUnusableFile }
        return code == SQLITE_CORRUPT || code == SQLITE_NOTADB
    }
}


/// Checkpoints the WAL on its own thread and connection, so that no commit waits for one
/// (Specs/storage.md, "Checkpoints").
///
/// SQLite's automatic checkpoint runs inside the COMMIT of the transaction that takes the WAL past
/// 1,000 pages: that commit — and every request of its batch, and the batches queued behind it —
/// waits for the database file to be written and synced twice. Here the writer connection has no
/// automatic checkpoint; after each commit the writer learns the WAL's length and, at
/// `requestFrames`, asks this thread for a PASSIVE checkpoint, which copies committed frames into
/// the database while the writer keeps appending (WAL mode allows one writer and one checkpointer
/// at once). Durability does not change: a commit is durable once its WAL sync returns, whether or
/// not it was checkpointed; after a crash SQLite replays the WAL.
///
/// Thread safety (`@unchecked Sendable`): `connection` is used only by the checkpointer thread once
/// `start()` ran (until it sets it to nil on exit); everything else shared lives in `state`.
final class WALCheckpointer: @unchecked Sendable {
    /// The writer asks for a checkpoint once the WAL holds this many frames not yet checkpointed
    /// (SQLite's default `wal_autocheckpoint`: as much checkpoint work as SQLite would do).
    static let requestFrames = 1_000
    /// …and checkpoints on its own connection, on the commit path, at this many (64 MiB of 4 KiB
    /// pages, the store's `journal_size_limit`): the WAL stays bounded when a background checkpoint
    /// cannot keep up with the writer.
    static let inlineFrames = 16_384
    /// The writer lets the WAL start over at this many frames when the background checkpoints are
    /// within `restartSlack` frames of its end.
    static let restartFrames = 4_096
    static let restartSlack = 256

    private struct State {
        var requested = false
        var idle = false
        var closing = false
        var exited = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var checkpoints = 0
        var failures = 0
        /// Frames of the WAL checkpointed by the last checkpoint (from its start).
        var backfilled = 0
    }

    private var connection: SQLiteConnection?
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "paymesh-store-checkpointer"
        thread.start()
    }

    /// Background checkpoints run, and how many of them failed (the WAL then stays as it is and the
    /// next request tries again; no commit depends on a checkpoint).
    var counts: (checkpoints: Int, failures: Int) { state.withLock { ($0.checkpoints, $0.failures) } }

    /// How many of the WAL's `frames` the last checkpoint did not copy. Fewer frames than it copied
    /// mean the WAL started over since: then all of them.
    func unchecked(frames: Int) -> Int {
        let done = state.withLock { $0.backfilled }
        return frames >= done ? frames - done : frames
    }

    /// A checkpoint (this thread's or the writer's) left `frames` frames of the WAL checkpointed.
    func checkpointed(_ frames: Int) { state.withLock { $0.backfilled = frames } }

    /// Asks for a checkpoint (from the writer thread, after a commit); requests made while one runs
    /// are merged into the next.
    func request() {
        let wake = state.withLock { s -> Bool in
            guard !s.closing else { return false }
            s.requested = true
            defer { s.idle = false }
            return s.idle
        }
        if wake { wakeup.signal() }
    }

    /// Stops after the checkpoint in progress, if any, and closes the connection.
    func close() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let (alreadyExited, wake) = state.withLock { s -> (Bool, Bool) in
                if s.exited { return (true, false) }
                s.closing = true
                s.closeWaiters.append(waiter)
                defer { s.idle = false }
                return (false, s.idle)
            }
            if alreadyExited { waiter.resume() } else if wake { wakeup.signal() }
        }
    }

    /// Asks the thread to exit without waiting (used from `deinit`).
    func requestClose() {
        let wake = state.withLock { s -> Bool in
            s.closing = true
            defer { s.idle = false }
            return s.idle
        }
        if wake { wakeup.signal() }
    }

    private func run() {
        while true {
            enum Next { case checkpoint, sleep, exit([CheckedContinuation<Void, Never>]) }
            let next = state.withLock { s -> Next in
                // A request made before closing still runs: the writer's last commits may have asked for it.
                if s.requested {
                    s.requested = false
                    return .checkpoint
                }
                if s.closing {
                    s.exited = true
                    defer { s.closeWaiters = [] }
                    return .exit(s.closeWaiters)
                }
                s.idle = true
                return .sleep
            }
            switch next {
            case .sleep: wakeup.wait()
            case .checkpoint:
                let outcome: Int??
                do { outcome = .some(try connection!.checkpointPassive()) } catch { outcome = nil }
                state.withLock { s in
                    switch outcome {
                    case .some(.some(let frames)): s.checkpoints += 1; s.backfilled = frames
                    case .some(.none): break // the writer's inline checkpoint was running
                    case .none: s.failures += 1
                    }
                }
            case .exit(let waiters):
                connection = nil
                waiters.forEach { $0.resume() }
                return
            }
        }
    }
}

/// Told by SQLite after each commit of the writer connection how many frames the WAL holds
/// (`sqlite3_wal_hook`). Used on the writer thread only.
final class WALLength {
    var frames = 0
}
