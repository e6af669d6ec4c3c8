/// How a store opens its database and batches its writes.
public struct StoreConfiguration: Sendable, Hashable {
    /// SQLite's `synchronous` setting in WAL mode (Specs/storage.md, "Durability").
    public enum Synchronous: Sendable, Hashable {
        /// Every commit syncs the WAL: an acknowledged write survives a power loss. The default.
        case full
        /// Commits reach the OS but are synced only at checkpoints: an acknowledged write survives
        /// a process crash (kill -9) but not a power loss or kernel crash. For benchmarks.
        case normal

        var pragmaValue: String { self == .full ? "FULL" : "NORMAL" }
    }

    public var synchronous: Synchronous
    /// How long a connection waits for another process's lock before failing with SQLITE_BUSY.
    public var busyTimeoutMillis: Int
    /// At most this many write requests share one transaction (one commit, one sync).
    public var maxBatchRequests: Int
    /// …and at most about this many bytes of request payload (the first request always fits).
    public var maxBatchBytes: Int

    public init(synchronous: Synchronous = .full, busyTimeoutMillis: Int = 5_000, maxBatchRequests: Int = 4_096, maxBatchBytes: Int = 8 << 20) {
        precondition(maxBatchRequests > 0 && maxBatchBytes > 0, "batch limits must be positive")
        self.synchronous = synchronous
        self.busyTimeoutMillis = busyTimeoutMillis
        self.maxBatchRequests = maxBatchRequests
        self.maxBatchBytes = maxBatchBytes
    }

    public static let `default` = StoreConfiguration()
}

/// Counters of the group-commit writer, for benchmarks and monitoring.
public struct StoreStatistics: Sendable, Hashable {
    /// Transactions committed (in FULL mode, one WAL sync each).
    public var commits: Int
    /// Write requests completed successfully.
    public var requests: Int
    /// The largest batch committed in one transaction.
    public var largestBatch: Int
    /// Batches aborted by a failure of the file or its environment (disk full, I/O error…).
    public var failedBatches: Int
    /// WAL checkpoints run by the checkpointer thread, off the commit path (Specs/storage.md, "Checkpoints").
    public var checkpoints: Int
    /// …and by the writer itself, between two batches, to let the WAL start over (see `GroupCommitWriter`).
    public var inlineCheckpoints: Int
    /// Checkpoints of the checkpointer thread that failed (the next request tries again).
    public var checkpointFailures: Int = 0

    public init(commits: Int = 0, requests: Int = 0, largestBatch: Int = 0, failedBatches: Int = 0, checkpoints: Int = 0,
                inlineCheckpoints: Int = 0) {
        self.commits = commits
        self.requests = requests
        self.largestBatch = largestBatch
        self.failedBatches = failedBatches
        self.checkpoints = checkpoints
        self.inlineCheckpoints = inlineCheckpoints
    }
}

/// Whether the store's writer is committing (Specs/storage.md, "Write failures").
public enum StoreHealth: Sendable, Hashable, CustomStringConvertible {
    /// The last batch committed (or none was tried yet).
    case ok
    /// The last batch failed for a reason that may pass (disk full, I/O error, lock timeout):
    /// its callers got the error; the next batch tries again.
    case degraded(StoreError)
    /// The file is damaged: the writer refuses every write until the node is restarted.
    case stopped(StoreError)

    public var description: String {
        switch self {
        case .ok: "ok"
        case .degraded(let e): "degraded: \(e)"
        case .stopped(let e): "stopped: \(e)"
        }
    }
}
