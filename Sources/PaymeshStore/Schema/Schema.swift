/// Opening a database file: recognising it, configuring the connection, migrating it.
enum Schema {
    /// `PRAGMA application_id` of a Paymesh store: "PMSH" in ASCII.
    static let applicationID: Int32 = 0x504D_5348

    /// Checks that the file is a Paymesh store (or empty), applies the connection settings, and
    /// migrates it to `targetVersion`. Refuses a foreign file or a newer schema before writing anything.
    static func prepare(
        _ db: SQLiteConnection, synchronous: StoreConfiguration.Synchronous, busyTimeoutMillis: Int,
        targetVersion: Int = Migrations.current
    ) throws(StoreError) {
        // The first read of the file: a non-SQLite file fails here with SQLITE_NOTADB.
        let appID = Int32(truncatingIfNeeded: try db.integer("PRAGMA application_id"))
        let version = Int(try db.integer("PRAGMA user_version"))
        let objects = try db.integer("SELECT count(*) FROM sqlite_schema")
        if appID != applicationID, !(appID == 0 && version == 0 && objects == 0) {
            throw .foreignDatabase(applicationID: appID)
        }
        if version > Migrations.current {
            throw .schemaTooNew(found: version, supported: Migrations.current)
        }
        try db.execute("PRAGMA busy_timeout = \(busyTimeoutMillis)")
        guard try db.text("PRAGMA journal_mode = WAL")?.lowercased() == "wal" else {
            throw .failed("could not switch \(db.path) to WAL mode")
        }
        try db.execute("PRAGMA synchronous = \(synchronous.pragmaValue)")
        try db.execute("PRAGMA foreign_keys = ON")
        try db.execute("PRAGMA temp_store = MEMORY")
        // Keep the WAL from growing without bound after a burst (bytes).
        try db.execute("PRAGMA journal_size_limit = 67108864")
        try migrate(db, from: version, to: targetVersion)
    }

    static func migrate(_ db: SQLiteConnection, from version: Int, to target: Int) throws(StoreError) {
        for migration in Migrations.all where migration.version > version && migration.version <= target {
            try db.execute("BEGIN IMMEDIATE")
            do {
                // Re-read under the write lock: another process may have migrated meanwhile.
                let now = Int(try db.integer("PRAGMA user_version"))
                if now < migration.version {
                    try db.execute(migration.sql)
                    try migration.backfill?(db)
                    try db.execute("PRAGMA application_id = \(applicationID)")
                    try db.execute("PRAGMA user_version = \(migration.version)")
                }
                try db.execute("COMMIT")
            } catch {
                if db.isInTransaction { try? db.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// Settings that apply to every connection (the reader's too).
    static func configureReader(_ db: SQLiteConnection, busyTimeoutMillis: Int) throws(StoreError) {
        try db.execute("PRAGMA busy_timeout = \(busyTimeoutMillis)")
        try db.execute("PRAGMA foreign_keys = ON")
        try db.execute("PRAGMA query_only = ON")
    }
}
