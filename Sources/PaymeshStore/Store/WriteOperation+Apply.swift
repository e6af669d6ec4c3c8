internal import CSQLite
import PaymeshCrypto
import PaymeshMessages

/// How each write request is applied inside the batch transaction, on the writer thread.
///
/// The writer runs each request inside its own savepoint (`GroupCommitWriter.applyAlone`), so a
/// request that fails leaves no trace; the nested savepoints below only predate it.
extension WriteOperation {
    func apply(to db: SQLiteConnection) throws(StoreError) {
        switch self {
        case .recordVoucher(let voucher):
            try Self.recordVoucher(voucher, db)
        case .recordVouchers(let vouchers):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.recordVouchers(vouchers, db) }
        case .insertChannel(let record):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.insertChannel(record, db) }
        case .updateChannel(let id, let status, let locked, let close):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.updateChannel(id, status, locked, close, db) }
        case .channelWithMetadata(let write, let key, let value):
            try Self.inSavepoint(db) { () throws(StoreError) in
                try db.run("INSERT OR REPLACE INTO metadata (key, value) VALUES (?1, ?2)") { s throws(StoreError) in
                    try s.bind(1, key)
                    try s.bind(2, value)
                }
                switch write {
                case .insert(let record): try Self.insertChannel(record, db)
                case .update(let id, let status, let locked, let close): try Self.updateChannel(id, status, locked, close, db)
                }
            }
        case .appendReceipt(let receipt):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.appendReceipt(receipt, db) }
        case .appendLedger(let entries):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.appendLedger(entries, db) }
        case .setMetadata(let key, let value):
            try Self.inSavepoint(db) { () throws(StoreError) in
                if let value {
                    try Self.setMetadata(key, value, db)
                } else {
                    try db.run("DELETE FROM metadata WHERE key = ?1") { s throws(StoreError) in try s.bind(1, key) }
                }
            }
        case .importHistory(let vouchers):
            try Self.inSavepoint(db) { () throws(StoreError) in try Self.importHistory(vouchers, db) }
        case .saveHTLCs(let channels):
            try Self.inSavepoint(db) { () throws(StoreError) in
                for channel in channels { try HTLCQueries.save(channel, db) }
            }
        case .insertInvoice(let record):
            try Self.inSavepoint(db) { () throws(StoreError) in try InvoiceQueries.insert(record, db) }
        case .savePayment(let payment):
            try Self.inSavepoint(db) { () throws(StoreError) in try InvoiceQueries.savePayment(payment, db) }
        case .deleteRouteOutcomes(let hashes):
            try Self.inSavepoint(db) { () throws(StoreError) in try RouteOutcomeQueries.delete(hashes, db) }
        case .finishPayment(let payment, let hashes, let key, let value):
            try Self.inSavepoint(db) { () throws(StoreError) in
                try InvoiceQueries.savePayment(payment, db)
                try RouteOutcomeQueries.delete(hashes, db)
                try Self.setMetadata(key, value, db)
            }
        }
    }

    private static func setMetadata(_ key: String, _ value: [UInt8], _ db: SQLiteConnection) throws(StoreError) {
        try db.run("INSERT OR REPLACE INTO metadata (key, value) VALUES (?1, ?2)") { s throws(StoreError) in
            try s.bind(1, key)
            try s.bind(2, value)
        }
    }

    /// Runs `body` in a savepoint; on a refusal (or a constraint violation) rolls back to it.
    private static func inSavepoint(_ db: SQLiteConnection, _ body: () throws(StoreError) -> Void) throws(StoreError) {
        try db.run("SAVEPOINT request")
        do {
            try body()
            try db.run("RELEASE request")
        } catch {
            let refused: StoreError
            if error.isRejectedRequest {
                refused = error
            } else if error.sqliteCode == SQLITE_CONSTRAINT {
                refused = .valueOutOfRange("constraint violated: \(error)")
            } else {
                throw error // a database failure: the writer aborts the batch
            }
            try db.run("ROLLBACK TO request")
            try db.run("RELEASE request")
            throw refused
        }
    }

    // MARK: Vouchers

    static let updateLatestSQL = """
        UPDATE channels SET latest_nonce = ?2, latest_amount = ?3, latest_signature = ?4, latest_task_id = ?5, latest_ts = ?6
        WHERE id = ?1 AND latest_nonce < ?2 AND latest_amount <= ?3 AND ?3 <= deposit
        """
    /// History rows refer to the channel's small key, which `channels_key_on_insert` gave it (v5).
    static let insertHistorySQL = """
        INSERT INTO voucher_history (channel_key, nonce, amount, signature, task_id, ts)
        VALUES ((SELECT key FROM channel_keys WHERE channel = ?1), ?2, ?3, ?4, ?5, ?6)
        """

    private static func bindVoucher(_ v: StoredVoucher, _ s: SQLiteStatement) throws(StoreError) {
        try s.bind(1, v.channel.bytes)
        try s.bind(2, try IntegerEncoding.int64(v.nonce, "voucher nonce"))
        try s.bind(3, AmountEncoding.encode(v.amount))
        try s.bind(4, v.signature.bytes)
        try s.bind(5, v.taskID)
        try s.bind(6, v.timestampMillis)
    }

    private static func recordVoucher(_ v: StoredVoucher, _ db: SQLiteConnection) throws(StoreError) {
        guard v.nonce > 0 else { throw .valueOutOfRange("voucher nonce must be at least 1") }
        _ = try IntegerEncoding.int64(v.nonce, "voucher nonce")
        // Amounts compare as 16-byte big-endian BLOBs: memcmp order is numeric order.
        let changed = try db.run(updateLatestSQL) { s throws(StoreError) in try bindVoucher(v, s) }
        guard changed == 1 else { throw try explainRefusal(v, db) }
        try db.run(insertHistorySQL) { s throws(StoreError) in try bindVoucher(v, s) }
    }

    /// Why the guarded UPDATE matched no row (cold path).
    private static func explainRefusal(_ v: StoredVoucher, _ db: SQLiteConnection) throws(StoreError) -> StoreError {
        let s = try db.statement("SELECT latest_nonce, latest_amount, deposit FROM channels WHERE id = ?1")
        try s.bind(1, v.channel.bytes)
        guard try s.step() else { return .unknownChannel(v.channel) }
        let latest = try IntegerEncoding.uint64(s.int64(0), "channels.latest_nonce")
        let latestAmount = try AmountEncoding.decode(s.blob(1), "channels.latest_amount")
        let deposit = try AmountEncoding.decode(s.blob(2), "channels.deposit")
        s.reset()
        if v.nonce <= latest { return .staleVoucher(v.channel, nonce: v.nonce, latest: latest) }
        if v.amount < latestAmount { return .amountDecreased(v.channel, nonce: v.nonce) }
        if v.amount > deposit { return .exceedsDeposit(v.channel, nonce: v.nonce) }
        return .failed("voucher update matched no row for an unknown reason")
    }

    /// The guarded batch: per channel (in the order given) every voucher must have a nonce above
    /// the one before it (the stored latest for the first), an amount not below the one before it
    /// and not above the deposit. Checked here, then again by the guarded UPDATE of the highest one.
    /// Any violation refuses the whole request with its typed error (the savepoint undoes it).
    private static func recordVouchers(_ vouchers: [StoredVoucher], _ db: SQLiteConnection) throws(StoreError) {
        struct Latest { var nonce: UInt64; var amount: Amount; let deposit: Amount; var voucher: StoredVoucher? }
        var latest: [ChannelID: Latest] = [:]
        var order: [ChannelID] = []
        for v in vouchers {
            guard v.nonce > 0 else { throw .valueOutOfRange("voucher nonce must be at least 1") }
            _ = try IntegerEncoding.int64(v.nonce, "voucher nonce")
            var current: Latest
            if let known = latest[v.channel] {
                current = known
            } else {
                let s = try db.statement("SELECT latest_nonce, latest_amount, deposit FROM channels WHERE id = ?1")
                try s.bind(1, v.channel.bytes)
                guard try s.step() else { s.reset(); throw .unknownChannel(v.channel) }
                current = Latest(nonce: try IntegerEncoding.uint64(s.int64(0), "channels.latest_nonce"),
                                 amount: try AmountEncoding.decode(s.blob(1), "channels.latest_amount"),
                                 deposit: try AmountEncoding.decode(s.blob(2), "channels.deposit"), voucher: nil)
                s.reset()
                order.append(v.channel)
            }
            if v.nonce <= current.nonce { throw .staleVoucher(v.channel, nonce: v.nonce, latest: current.nonce) }
            if v.amount < current.amount { throw .amountDecreased(v.channel, nonce: v.nonce) }
            if v.amount > current.deposit { throw .exceedsDeposit(v.channel, nonce: v.nonce) }
            try db.run(insertHistorySQL) { s throws(StoreError) in try bindVoucher(v, s) }
            current.nonce = v.nonce
            current.amount = v.amount
            current.voucher = v
            latest[v.channel] = current
        }
        for channel in order {
            guard let v = latest[channel]?.voucher else { continue }
            let changed = try db.run(updateLatestSQL) { s throws(StoreError) in try bindVoucher(v, s) }
            guard changed == 1 else { throw try explainRefusal(v, db) }
        }
    }

    private static func importHistory(_ vouchers: [StoredVoucher], _ db: SQLiteConnection) throws(StoreError) {
        var highest: [ChannelID: StoredVoucher] = [:]
        for v in vouchers {
            guard v.nonce > 0 else { throw .valueOutOfRange("voucher nonce must be at least 1") }
            try db.run(insertHistorySQL) { s throws(StoreError) in try bindVoucher(v, s) }
            if highest[v.channel].map({ $0.nonce < v.nonce }) ?? true { highest[v.channel] = v }
        }
        for v in highest.values {
            // Keeps latest = highest in history; a channel already past these nonces is left alone.
            try db.run("""
                UPDATE channels SET latest_nonce = ?2, latest_amount = ?3, latest_signature = ?4, latest_task_id = ?5, latest_ts = ?6
                WHERE id = ?1 AND latest_nonce < ?2
                """) { s throws(StoreError) in try bindVoucher(v, s) }
        }
    }

    // MARK: Channels

    private static func channelExists(_ id: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> Bool {
        let s = try db.statement("SELECT 1 FROM channels WHERE id = ?1")
        try s.bind(1, id.bytes)
        let found = try s.step()
        s.reset()
        return found
    }

    private static func insertChannel(_ c: ChannelRecord, _ db: SQLiteConnection) throws(StoreError) {
        guard try !channelExists(c.id, db) else { throw .duplicateChannel(c.id) }
        if let v = c.latestVoucher {
            guard v.channel == c.id, v.nonce > 0 else { throw .valueOutOfRange("latest voucher does not belong to the channel") }
        }
        try db.run("""
            INSERT INTO channels (id, role, local_address, remote_address, asset_id, asset_decimals, deposit,
                challenge_period, settlement_backend, chain_id, verifying_contract, state, open_signature, opened_at,
                latest_nonce, latest_amount, latest_signature, latest_task_id, latest_ts, locked_amount,
                close_reason, closed_at, close_nonce, close_amount, close_reference)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                ?21, ?22, ?23, ?24, ?25)
            """) { s throws(StoreError) in
            try s.bind(1, c.id.bytes)
            try s.bind(2, c.role.rawValue)
            try s.bind(3, c.localAddress.bytes)
            try s.bind(4, c.remoteAddress.bytes)
            try s.bind(5, c.asset.id)
            try s.bind(6, Int64(c.asset.decimals))
            try s.bind(7, AmountEncoding.encode(c.deposit))
            try s.bind(8, try IntegerEncoding.int64(c.challengePeriodSeconds, "challenge period"))
            try s.bind(9, c.settlementBackend)
            try s.bind(10, try IntegerEncoding.int64(c.chainID, "chain id"))
            try s.bind(11, c.verifyingContract.bytes)
            try s.bind(12, c.status.rawValue)
            try s.bind(13, c.openSignature?.bytes)
            try s.bind(14, c.openedAtMillis)
            let v = c.latestVoucher
            try s.bind(15, try IntegerEncoding.int64(v?.nonce ?? 0, "voucher nonce"))
            try s.bind(16, AmountEncoding.encode(v?.amount ?? .zero))
            try s.bind(17, v?.signature.bytes)
            try s.bind(18, v?.taskID)
            try s.bind(19, v?.timestampMillis)
            try s.bind(20, AmountEncoding.encode(c.lockedAmount))
            try bindClose(c.closeInfo, from: 21, s)
        }
        if let v = c.latestVoucher {
            try db.run(insertHistorySQL) { s throws(StoreError) in try bindVoucher(v, s) }
        }
    }

    private static func bindClose(_ close: ChannelCloseInfo?, from index: Int32, _ s: SQLiteStatement) throws(StoreError) {
        try s.bind(index, close?.reason)
        try s.bind(index + 1, close?.closedAtMillis)
        try s.bind(index + 2, try close.map { c throws(StoreError) in try IntegerEncoding.int64(c.finalNonce, "final nonce") })
        try s.bind(index + 3, close.map { AmountEncoding.encode($0.finalAmount) })
        try s.bind(index + 4, close?.settlementReference)
    }

    private static func updateChannel(
        _ id: ChannelID, _ status: ChannelStatus, _ locked: Amount?, _ close: ChannelCloseInfo?, _ db: SQLiteConnection
    ) throws(StoreError) {
        let changed = try db.run("""
            UPDATE channels SET state = ?2, locked_amount = coalesce(?3, locked_amount),
                close_reason = CASE WHEN ?4 THEN ?5 ELSE close_reason END,
                closed_at = CASE WHEN ?4 THEN ?6 ELSE closed_at END,
                close_nonce = CASE WHEN ?4 THEN ?7 ELSE close_nonce END,
                close_amount = CASE WHEN ?4 THEN ?8 ELSE close_amount END,
                close_reference = CASE WHEN ?4 THEN ?9 ELSE close_reference END
            WHERE id = ?1
            """) { s throws(StoreError) in
            try s.bind(1, id.bytes)
            try s.bind(2, status.rawValue)
            try s.bind(3, locked.map { AmountEncoding.encode($0) })
            try s.bind(4, Int64(close == nil ? 0 : 1))
            try bindClose(close, from: 5, s)
        }
        guard changed == 1 else { throw .unknownChannel(id) }
    }

    // MARK: Receipts

    private static func appendReceipt(_ r: ReceiptRecord, _ db: SQLiteConnection) throws(StoreError) {
        guard try channelExists(r.channel, db) else { throw .unknownChannel(r.channel) }
        let s = try db.statement("SELECT seq, hash FROM receipts WHERE channel = ?1 ORDER BY seq DESC LIMIT 1")
        try s.bind(1, r.channel.bytes)
        var lastSeq: UInt64 = 0
        var lastHash: Hash32?
        if try s.step() {
            lastSeq = try IntegerEncoding.uint64(s.int64(0), "receipts.seq")
            lastHash = try BytesDecoding.decode(Hash32.self, s.blob(1), "receipts.hash")
        }
        s.reset()
        guard r.seq == lastSeq + 1 else { throw .receiptOutOfOrder(r.channel, seq: r.seq, expected: lastSeq + 1) }
        guard r.prevHash == lastHash else { throw .receiptChainBroken(r.channel, seq: r.seq) }
        try db.run("""
            INSERT INTO receipts (channel, seq, hash, prev_hash, json, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """) { s throws(StoreError) in
            try s.bind(1, r.channel.bytes)
            try s.bind(2, try IntegerEncoding.int64(r.seq, "receipt seq"))
            try s.bind(3, r.hash.bytes)
            try s.bind(4, r.prevHash?.bytes)
            try s.bind(5, r.json)
            try s.bind(6, r.signature.bytes)
        }
    }

    // MARK: Ledger

    /// Appends entries and applies their net change to each touched balance and escrow row (one
    /// read and one write per row, never a re-sum). A request that would make any of them negative
    /// or pass 2^128 − 1 is refused; the savepoint undoes the whole request.
    private static func appendLedger(_ entries: [LedgerEntry], _ db: SQLiteConnection) throws(StoreError) {
        struct Account: Hashable { let owner: EthereumAddress; let asset: String }
        var accounts: [Account: LedgerQueries.Change] = [:]
        var order: [Account] = []
        var escrows: [ChannelID: LedgerQueries.Change] = [:]
        var channels: [ChannelID] = []
        var paidOut: Set<ChannelID> = []
        for e in entries {
            let account = Account(owner: e.owner, asset: e.asset.id)
            if accounts[account] == nil { order.append(account) }
            guard accounts[account, default: .init()].add(e.amount.atomicUnits, credit: e.direction == .credit) else {
                throw .balanceOverflow("the entries of \(e.owner.lowercaseHex) in \(e.asset.id) sum past 2^128 - 1")
            }
            if let channel = e.channel {
                if escrows[channel] == nil {
                    guard try channelExists(channel, db) else { throw .unknownChannel(channel) }
                    channels.append(channel)
                    escrows[channel] = .init()
                }
                let added: Bool
                switch e.reason {
                case .depositLock: added = escrows[channel]!.add(e.amount.atomicUnits, credit: true)
                case .payout, .refund:
                    added = escrows[channel]!.add(e.amount.atomicUnits, credit: false)
                    paidOut.insert(channel)
                case .funding, .withdrawal: added = true
                }
                guard added else { throw .balanceOverflow("the entries of channel \(channel) sum past 2^128 - 1") }
            }
            try db.run("""
                INSERT INTO ledger_entries (owner, asset_id, asset_decimals, direction, amount, reason, channel, ts)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """) { s throws(StoreError) in
                try s.bind(1, e.owner.bytes)
                try s.bind(2, e.asset.id)
                try s.bind(3, Int64(e.asset.decimals))
                try s.bind(4, e.direction.rawValue)
                try s.bind(5, AmountEncoding.encode(e.amount))
                try s.bind(6, e.reason.rawValue)
                try s.bind(7, e.channel?.bytes)
                try s.bind(8, e.timestampMillis)
            }
        }
        for account in order {
            let current = try LedgerQueries.balance(owner: account.owner, assetID: account.asset, db).atomicUnits
            switch accounts[account]!.applied(to: current) {
            case .amount(let balance): try LedgerQueries.setBalance(owner: account.owner, assetID: account.asset, balance, db)
            case .negative: throw .insufficientBalance(owner: account.owner, asset: account.asset)
            case .overflow: throw .balanceOverflow("the balance of \(account.owner.lowercaseHex) in \(account.asset) would pass 2^128 - 1")
            }
        }
        for channel in channels {
            let change = escrows[channel]!
            guard change != .init() || paidOut.contains(channel) else { continue }
            guard let current = try LedgerQueries.escrow(channel: channel, db)?.atomicUnits else { throw .unknownChannel(channel) }
            switch change.applied(to: current) {
            case .amount(var escrow):
                // A payee's escrow is its channel's deposit term: its one payout settles the channel
                // on this node's books (the rest returns to the payer outside them).
                if paidOut.contains(channel), try isPayee(channel, db) { escrow = 0 }
                try LedgerQueries.setEscrow(channel: channel, escrow, db)
            case .negative: throw .insufficientEscrow(channel)
            case .overflow: throw .balanceOverflow("the escrow of channel \(channel) would pass 2^128 - 1")
            }
        }
    }

    private static func isPayee(_ id: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> Bool {
        let s = try db.statement("SELECT role FROM channels WHERE id = ?1")
        try s.bind(1, id.bytes)
        guard try s.step() else { return false }
        let role = s.text(0)
        s.reset()
        return role == ChannelRole.payee.rawValue
    }
}
