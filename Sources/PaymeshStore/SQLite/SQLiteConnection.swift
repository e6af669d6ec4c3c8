internal import CSQLite
import Foundation

/// One SQLite connection. Owns the `sqlite3*` handle (closed in `deinit`) and a cache of prepared
/// statements (finalized before the handle is closed). Not thread-safe: the owner confines it to
/// one thread at a time (the writer thread, or a reader behind a mutex).
final class SQLiteConnection {
    private let handle: OpaquePointer
    private var cache: [String: SQLiteStatement] = [:]
    let path: String

    enum Mode { case readWriteCreate, readWrite }

    init(path: String, mode: Mode) throws(StoreError) {
        var db: OpaquePointer?
        // NOMUTEX: one thread at a time uses a connection (see the type's comment).
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if mode == .readWriteCreate { flags |= SQLITE_OPEN_CREATE }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let errno = db.map { sqlite3_system_errno($0) } ?? 0
            if let db { sqlite3_close_v2(db) }
            throw Self.error(rc, systemErrno: errno, message: message, context: "open \(path)", path: path)
        }
        handle = db
        self.path = path
    }

    deinit {
        // Statements first: sqlite3_close_v2 would otherwise keep the handle as a zombie.
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows we need (DDL, PRAGMA writes, BEGIN/COMMIT).
    func execute(_ sql: String) throws(StoreError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errmsg)
            throw error(rc, message: message, context: sql)
        }
    }

    /// Resets every cached statement left mid-result. A SELECT stepped to a row and not reset keeps
    /// this connection's read transaction, and with it its WAL snapshot, open until the statement
    /// is next used: no checkpoint can then copy frames past that snapshot and the WAL cannot start
    /// over, so it grows to the writer's inline limit (Specs/storage.md, "Checkpoints"). Called
    /// after every read and every group commit.
    func finishStatements() {
        for statement in cache.values where statement.isBusy { statement.reset() }
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    func statement(_ sql: String) throws(StoreError) -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, message: lastMessage, context: sql) }
        let statement = SQLiteStatement(stmt, connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs a statement with no result rows and returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ bind: (SQLiteStatement) throws(StoreError) -> Void = { _ in }) throws(StoreError) -> Int {
        let stmt = try statement(sql)
        try bind(stmt)
        while try stmt.step() {}
        return changes
    }

    /// A single integer, e.g. `PRAGMA user_version`.
    func integer(_ sql: String) throws(StoreError) -> Int64 {
        let stmt = try statement(sql)
        guard try stmt.step() else { throw .corrupt("no row from \(sql)") }
        let value = stmt.int64(0)
        stmt.reset()
        return value
    }

    /// A single text value, e.g. `PRAGMA journal_mode=WAL`.
    func text(_ sql: String) throws(StoreError) -> String? {
        let stmt = try statement(sql)
        guard try stmt.step() else { return nil }
        let value = stmt.text(0)
        stmt.reset()
        return value
    }

    // MARK: WAL checkpoints (WALCheckpointer)

    /// Replaces SQLite's automatic checkpoint on this connection (run inside the COMMIT that takes
    /// the WAL past 1,000 pages) by `length`, set after each commit to the frames the WAL holds.
    /// `length` must outlive the connection (the writer owns both).
    func observeWAL(_ length: WALLength) {
        sqlite3_wal_hook(handle, { context, _, _, frames in
            Unmanaged<WALLength>.fromOpaque(context!).takeUnretainedValue().frames = Int(frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(length).toOpaque())
    }

    /// A PASSIVE checkpoint: copies what it can of the WAL into the database file (and syncs it)
    /// without waiting for the writer or readers. Returns how many frames of the WAL are now
    /// checkpointed, or nil when another checkpoint was in progress (SQLITE_BUSY: that one does the work).
    @discardableResult
    func checkpointPassive() throws(StoreError) -> Int? {
        var walFrames: Int32 = 0, checkpointed: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &walFrames, &checkpointed)
        if rc & 0xff == SQLITE_BUSY { return nil }
        guard rc == SQLITE_OK else { throw error(rc, message: lastMessage, context: "wal_checkpoint(PASSIVE)") }
        // -1: the connection has no WAL open (it never read the file), so nothing was checkpointed.
        guard checkpointed >= 0 else {
            throw .sqlite(code: SQLITE_MISUSE, message: "no WAL open on this connection", context: "wal_checkpoint(PASSIVE)")
        }
        return Int(checkpointed)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Maps a result code to a typed error; "not a database", a damaged file and a full disk get
    /// their own cases (a full disk often surfaces as SQLITE_IOERR with errno ENOSPC).
    func error(_ rc: Int32, message: String, context: String) -> StoreError {
        Self.error(rc, systemErrno: sqlite3_system_errno(handle), message: message, context: context, path: path)
    }

    static func error(_ rc: Int32, systemErrno: Int32, message: String, context: String, path: String) -> StoreError {
        switch rc & 0xff {
        case SQLITE_NOTADB: return .notADatabase(path: path)
        case SQLITE_CORRUPT: return .damagedFile(code: rc, message: message, context: context)
        case SQLITE_FULL: return .diskFull(path: path, code: rc, context: context)
        case SQLITE_IOERR where systemErrno == ENOSPC || systemErrno == EDQUOT:
            return .diskFull(path: path, code: rc, context: context)
        default: return .sqlite(code: rc, message: message, context: context)
        }
    }
}
