internal import CSQLite

/// SQLITE_TRANSIENT: SQLite copies bound bytes before the bind call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A prepared statement, finalized in `deinit`. Bind indexes are 1-based, column indexes 0-based,
/// as in SQLite. Every bind and step result code is checked.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection
    let sql: String

    init(_ handle: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.handle = handle
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// True while the statement is mid-result (stepped to a row and neither done nor reset).
    var isBusy: Bool { sqlite3_stmt_busy(handle) != 0 }

    func reset() {
        // sqlite3_reset repeats the last step's error, which step already reported.
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// True when a row is available, false when the statement is done.
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = connection.lastMessage
            sqlite3_reset(handle)
            throw connection.error(rc, message: message, context: sql)
        }
    }

    // MARK: Binding

    func bind(_ index: Int32, _ value: Int64) throws(StoreError) {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ index: Int32, _ value: String) throws(StoreError) {
        try check(sqlite3_bind_text(handle, index, value, -1, transient))
    }

    func bind(_ index: Int32, _ bytes: [UInt8]) throws(StoreError) {
        let rc = bytes.withUnsafeBytes { raw in
            // A zero-length blob must still be a blob, not NULL: SQLite needs a non-null pointer.
            sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), transient)
        }
        try check(rc)
    }

    func bindNull(_ index: Int32) throws(StoreError) {
        try check(sqlite3_bind_null(handle, index))
    }

    func bind(_ index: Int32, _ value: String?) throws(StoreError) {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    func bind(_ index: Int32, _ value: [UInt8]?) throws(StoreError) {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    func bind(_ index: Int32, _ value: Int64?) throws(StoreError) {
        if let value { try bind(index, value) } else { try bindNull(index) }
    }

    private func check(_ rc: Int32) throws(StoreError) {
        guard rc == SQLITE_OK else { throw connection.error(rc, message: connection.lastMessage, context: "bind: \(sql)") }
    }

    // MARK: Columns

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func text(_ column: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: count))
    }
}
