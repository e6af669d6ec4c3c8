import PaymeshMessages
import Synchronization

/// The durable store of a node: channels with their latest voucher, the voucher history log,
/// receipts, the local ledger and metadata, in one SQLite file (Specs/storage.md).
///
/// Writes go through a group-commit writer thread: `try await store.recordVoucher(…)` returns
/// only once the voucher is durable, so the payer may then send it and the payee acknowledge it.
/// Reads use a second connection and see every write whose `await` has returned.
///
/// Cancelling a caller does not cancel its write: a request once submitted is committed or refused.
public final class ChannelStore: Sendable {
    private let writer: GroupCommitWriter
    private let reader: Mutex<SQLiteConnection>
    public let path: String
    public let configuration: StoreConfiguration

    /// The schema version this build writes.
    public static var schemaVersion: Int { Migrations.current }

    /// Opens (creating if needed) and migrates the store at `path`, then checks what a restart acts
    /// on (`verifyLatestVouchers()`). Throws a clear error for a file that is not SQLite, belongs to
    /// another application, has a newer schema, or whose contents contradict themselves; and says
    /// "disk full" (with the path) when the filesystem has no space left.
    public convenience init(path: String, configuration: StoreConfiguration = .default) throws(StoreError) {
        try self.init(path: path, configuration: configuration, migrateTo: Migrations.current, verify: true)
    }

    /// `migrateTo` below the current version and `verify: false` exist for tests only.
    init(path: String, configuration: StoreConfiguration, migrateTo version: Int, verify: Bool = true) throws(StoreError) {
        do {
            try StoreFiles.prepare(path)
            let writeConnection = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try Schema.prepare(writeConnection, synchronous: configuration.synchronous,
                               busyTimeoutMillis: configuration.busyTimeoutMillis, targetVersion: version)
            try StoreFiles.tighten(path) // -wal and -shm exist now
            let readConnection = try SQLiteConnection(path: path, mode: .readWrite)
            try Schema.configureReader(readConnection, busyTimeoutMillis: configuration.busyTimeoutMillis)
            self.path = path
            self.configuration = configuration
            reader = Mutex(readConnection)
            let checkpointConnection = try SQLiteConnection(path: path, mode: .readWrite)
            // A connection that has never read the file has not opened its WAL: on it
            // sqlite3_wal_checkpoint_v2 returns SQLITE_OK having done nothing (-1 frames). One
            // read opens it.
            _ = try checkpointConnection.integer("PRAGMA user_version")
            writer = GroupCommitWriter(connection: writeConnection, checkpointer: WALCheckpointer(connection: checkpointConnection),
                                       configuration: configuration)
        } catch {
            throw StoreFiles.diagnose(error, path: path)
        }
        if verify, version == Migrations.current { try verifyLatestVouchers() }
        writer.start()
    }

    deinit { writer.requestClose() }

    /// Finishes queued writes, then stops the writer. Later writes fail with `StoreError.closed`.
    public func close() async { await writer.close() }

    /// Group-commit counters since open.
    public var statistics: StoreStatistics { writer.statistics }

    /// Calls `observer` after every committed batch with its request count and duration in
    /// nanoseconds (BEGIN to the end of COMMIT), on the writer thread: keep it quick.
    public func observeCommits(_ observer: @escaping @Sendable (_ requests: Int, _ nanoseconds: UInt64) -> Void) {
        writer.observeCommits(observer)
    }

    /// Whether the last write batch committed, failed transiently, or the writer stopped for good.
    public var health: StoreHealth { writer.health }

    // MARK: Writes (each returns once durable)

    /// Makes `nonce`/`amount` the channel's latest voucher and appends it to the history, durably.
    /// Refused (nothing written) unless the nonce is above the stored latest, the cumulative amount
    /// does not decrease, and it does not exceed the deposit.
    public func recordVoucher(
        channel: ChannelID, nonce: UInt64, amount: Amount, signature: Signature65, taskID: String?, timestampMillis: Int64
    ) async throws(StoreError) {
        try await recordVoucher(StoredVoucher(channel: channel, nonce: nonce, amount: amount, signature: signature,
                                              taskID: taskID, timestampMillis: timestampMillis))
    }

    public func recordVoucher(_ voucher: StoredVoucher) async throws(StoreError) {
        try await writer.submit(.recordVoucher(voucher))
    }

    /// Appends many vouchers of many channels in one request, each guarded like `recordVoucher`
    /// against the one before it of its channel (in the order given; the stored latest for the
    /// first): nonce strictly above, amount not below, amount not above the deposit. Any violation
    /// refuses the whole request with its typed error (`staleVoucher`, `amountDecreased`,
    /// `exceedsDeposit`, `unknownChannel`, `valueOutOfRange`) and nothing of it is written.
    public func recordVouchers(_ vouchers: [StoredVoucher]) async throws(StoreError) {
        try await writer.submit(.recordVouchers(vouchers))
    }

    /// `recordVouchers`, enqueued before this returns: requests enqueued one after the other are
    /// applied in that order (so consecutive batches of one channel never meet the guard out of
    /// order), and `completion` is called, on the writer thread, once the request is durable or
    /// refused. Requests enqueued after `close()` complete at once with `StoreError.closed`.
    public func enqueueVouchers(_ vouchers: [StoredVoucher], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        writer.enqueue(.recordVouchers(vouchers), completion: completion)
    }

    /// Stores a new channel (refused if the id exists). Its `latestVoucher`, if any, also enters the history.
    public func saveChannel(_ channel: ChannelRecord) async throws(StoreError) {
        try await writer.submit(.insertChannel(channel))
    }

    /// Sets the channel's state and, when given, its locked amount and close information.
    public func updateState(
        channel: ChannelID, status: ChannelStatus, lockedAmount: Amount? = nil, closeInfo: ChannelCloseInfo? = nil
    ) async throws(StoreError) {
        try await writer.submit(.updateChannel(channel, status: status, lockedAmount: lockedAmount, closeInfo: closeInfo))
    }

    /// `saveChannel` and `setMetadata(value, forKey: key)` in one request: both are written or neither.
    public func saveChannel(_ channel: ChannelRecord, metadata value: [UInt8], forKey key: String) async throws(StoreError) {
        try await writer.submit(.channelWithMetadata(.insert(channel), key: key, value: value))
    }

    /// `updateState` and `setMetadata(value, forKey: key)` in one request: both are written or neither.
    public func updateState(
        channel: ChannelID, status: ChannelStatus, lockedAmount: Amount?, closeInfo: ChannelCloseInfo?,
        metadata value: [UInt8], forKey key: String
    ) async throws(StoreError) {
        try await writer.submit(.channelWithMetadata(.update(channel, status: status, lockedAmount: lockedAmount, closeInfo: closeInfo),
                                                     key: key, value: value))
    }

    /// Appends the next receipt of a channel: `seq` must be the last + 1 and `prevHash` its hash.
    public func appendReceipt(_ receipt: ReceiptRecord) async throws(StoreError) {
        try await writer.submit(.appendReceipt(receipt))
    }

    /// Appends entries atomically; refused if any touched account or channel escrow would go negative.
    public func appendLedger(_ entries: [LedgerEntry]) async throws(StoreError) {
        try await writer.submit(.appendLedger(entries))
    }

    /// Sets (or with nil removes) a metadata value. Never put secrets here.
    public func setMetadata(_ value: [UInt8]?, forKey key: String) async throws(StoreError) {
        try await writer.submit(.setMetadata(key: key, value: value))
    }

    /// Imports and benchmarks only — the node writes through `recordVouchers`, which is guarded.
    /// Bulk-inserts history rows in one transaction and raises each channel's
    /// latest voucher to the highest imported nonce. Refused as a whole on a duplicate nonce.
    public func importVoucherHistory(_ vouchers: [StoredVoucher]) async throws(StoreError) {
        try await writer.submit(.importHistory(vouchers))
    }

    /// The ledger view over this store.
    public var ledger: LedgerStore { LedgerStore(store: self) }

    /// Replaces a channel's HTLC state (its `htlc_channels` row and `htlcs` rows) in one request;
    /// refused with `unknownChannel` for a channel the store does not hold.
    public func saveHTLCs(_ channel: StoredHTLCChannel) async throws(StoreError) {
        try await writer.submit(.saveHTLCs([channel]))
    }

    /// `saveHTLCs` of each channel, in order, as ONE request enqueued before it returns: all of them
    /// durable or none (a forward's incoming state — with the preimage a forwarder learnt — never
    /// without its outgoing one, or the other way round, even when one of them is refused on its
    /// own). `completion` runs on the writer thread once per channel, all with the request's result.
    public func enqueueHTLCs(_ channels: [StoredHTLCChannel], completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        guard !channels.isEmpty else { return }
        writer.enqueue(.saveHTLCs(channels)) { result in
            for _ in channels { completion(result) }
        }
    }

    /// Stores a new invoice and its preimage (refused if its payment hash is known).
    public func insertInvoice(_ invoice: InvoiceRecord) async throws(StoreError) {
        try await writer.submit(.insertInvoice(invoice))
    }

    /// Inserts or replaces a payment journal entry.
    public func savePayment(_ payment: StoredPayment) async throws(StoreError) {
        try await writer.submit(.savePayment(payment))
    }

    /// A payment's final journal entry, the deletion of the route outcomes it takes and a metadata
    /// value (the reputation) in one request — all durable or none — enqueued before this returns
    /// (requests enqueued one after the other are applied in that order); `completion` runs on the
    /// writer thread once it is durable (or refused).
    public func enqueuePayment(_ payment: StoredPayment, takingOutcomes hashes: [Hash32], metadata value: [UInt8], forKey key: String,
                               completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        writer.enqueue(.finishPayment(payment, takingOutcomes: hashes, key: key, value: value), completion: completion)
    }

    /// Removes route outcomes the payment journal has taken (Specs/storage.md "Route outcomes").
    public func deleteRouteOutcomes(_ hashes: [Hash32]) async throws(StoreError) {
        guard !hashes.isEmpty else { return }
        try await writer.submit(.deleteRouteOutcomes(hashes))
    }

    // MARK: Reads

    /// Every route outcome not yet taken by the payment journal, oldest first.
    public func loadRouteOutcomes() throws(StoreError) -> [RouteOutcome] {
        try read { db throws(StoreError) in try RouteOutcomeQueries.all(db) }
    }

    /// Every invoice this node made, oldest first.
    public func loadInvoices() throws(StoreError) -> [InvoiceRecord] {
        try read { db throws(StoreError) in try InvoiceQueries.all(db) }
    }

    /// Every payment journal entry, oldest first.
    public func loadPayments() throws(StoreError) -> [StoredPayment] {
        try read { db throws(StoreError) in try InvoiceQueries.payments(db) }
    }

    /// Every channel's HTLC state, the HTLCs in signing order (what an HTLC book restores).
    public func loadHTLCChannels() throws(StoreError) -> [StoredHTLCChannel] {
        try read { db throws(StoreError) in try HTLCQueries.all(db) }
    }

    func read<T>(_ body: (SQLiteConnection) throws(StoreError) -> sending T) throws(StoreError) -> sending T {
        try reader.withLock { (db: inout SQLiteConnection) throws(StoreError) -> sending T in
            defer { db.finishStatements() }
            return try body(db)
        }
    }

    /// Every channel with its latest voucher: all a restart needs. Reads only `channels`.
    public func loadChannels() throws(StoreError) -> [ChannelRecord] {
        try read { db throws(StoreError) in try ChannelQueries.all(db) }
    }

    public func channel(_ id: ChannelID) throws(StoreError) -> ChannelRecord? {
        try read { db throws(StoreError) in try ChannelQueries.one(id, db) }
    }

    /// History of a channel in nonce order, after `afterNonce`, at most `limit` rows.
    public func voucherHistory(channel: ChannelID, afterNonce: UInt64 = 0, limit: Int = 1_000) throws(StoreError) -> [StoredVoucher] {
        try read { db throws(StoreError) in try ChannelQueries.history(channel, after: afterNonce, limit: limit, db) }
    }

    /// A channel's history rows with nonce at most `upToNonce`, highest first, at most `limit`
    /// (through `voucher_history_by_channel`).
    public func voucherHistory(channel: ChannelID, upToNonce: UInt64, limit: Int) throws(StoreError) -> [StoredVoucher] {
        try read { db throws(StoreError) in try ChannelQueries.historyUpTo(channel, nonce: upToNonce, limit: limit, db) }
    }

    /// `voucherHistory` for people and other nodes: first `PRAGMA quick_check` of the history table
    /// (a damaged page must not pass for a shorter history), then the rows are checked to be
    /// strictly increasing in nonce and non-decreasing in amount (also against the row before the
    /// page), and the last page to end at the channel's latest voucher. Throws instead of
    /// returning a partial or inconsistent list. Reads the whole history table once per call.
    public func verifiedVoucherHistory(channel: ChannelID, afterNonce: UInt64 = 0, limit: Int = 1_000) throws(StoreError) -> [StoredVoucher] {
        try read { db throws(StoreError) in try StoreVerification.history(channel, after: afterNonce, limit: limit, db) }
    }

    /// The highest nonce in a channel's history (0 if none), from `voucher_history_by_channel`.
    public func highestHistoryNonce(channel: ChannelID) throws(StoreError) -> UInt64 {
        try read { db throws(StoreError) in
            let s = try db.statement("""
                SELECT coalesce(max(nonce), 0) FROM voucher_history
                WHERE channel_key = (SELECT key FROM channel_keys WHERE channel = ?1)
                """)
            try s.bind(1, channel.bytes)
            _ = try s.step()
            defer { s.reset() }
            return try IntegerEncoding.uint64(s.int64(0), "voucher_history.nonce")
        }
    }

    public func receipts(channel: ChannelID) throws(StoreError) -> [ReceiptRecord] {
        try read { db throws(StoreError) in try ChannelQueries.receipts(channel, db) }
    }

    public func metadata(forKey key: String) throws(StoreError) -> [UInt8]? {
        try read { db throws(StoreError) in
            let s = try db.statement("SELECT value FROM metadata WHERE key = ?1")
            try s.bind(1, key)
            defer { s.reset() }
            return try s.step() ? s.blob(0) : nil
        }
    }

    /// The schema version of the open file.
    public func storedSchemaVersion() throws(StoreError) -> Int {
        try read { db throws(StoreError) in Int(try db.integer("PRAGMA user_version")) }
    }

    /// Checks, for every channel, what a restart acts on against the history log: the latest
    /// voucher (nonce, amount, signature) is the history's highest row, the row below it does not
    /// exceed it, and the amount is within the deposit; a channel without a voucher has no history.
    /// Two primary-key lookups per channel (the history is not scanned). Throws
    /// `StoreError.inconsistent` naming the channel (Specs/storage.md, "Checks at start").
    public func verifyLatestVouchers() throws(StoreError) {
        try read { db throws(StoreError) in try StoreVerification.latestVouchers(db) }
    }

    /// `PRAGMA integrity_check`: ["ok"] for a sound file, else SQLite's list of problems.
    /// Reads the whole file: for tests and operators, not for the restart path.
    public func integrityCheck() throws(StoreError) -> [String] {
        try read { db throws(StoreError) in
            let s = try db.statement("PRAGMA integrity_check")
            var lines: [String] = []
            while try s.step() { lines.append(s.text(0) ?? "") }
            return lines
        }
    }
}
