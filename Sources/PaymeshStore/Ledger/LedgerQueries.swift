import PaymeshCrypto
import PaymeshMessages

/// Balances and escrows of the local ledger. Since schema v3 they are rows kept up to date by the
/// writer in the same savepoint as the entries (`ledger_balances`, `ledger_escrows`): a write
/// touches one row per account it changes and never re-sums an account's history (Specs/storage.md).
enum LedgerQueries {
    /// The credits and debits one request makes to one account or escrow, each summed with
    /// overflow checks, and the arithmetic that applies them to a stored amount.
    struct Change: Equatable {
        var credits: UInt128 = 0
        var debits: UInt128 = 0

        /// Adds one entry's amount; false when a sum would pass 2^128 − 1.
        mutating func add(_ amount: UInt128, credit: Bool) -> Bool {
            let (sum, overflow) = credit ? credits.addingReportingOverflow(amount) : debits.addingReportingOverflow(amount)
            guard !overflow else { return false }
            if credit { credits = sum } else { debits = sum }
            return true
        }

        enum Outcome: Equatable {
            case amount(UInt128)
            case negative
            case overflow
        }

        /// `current + credits − debits`: the net change is applied, so a credit and a debit of the
        /// same request never fail on an intermediate value.
        func applied(to current: UInt128) -> Outcome {
            if credits >= debits {
                let (sum, overflow) = current.addingReportingOverflow(credits - debits)
                return overflow ? .overflow : .amount(sum)
            }
            let net = debits - credits
            return net <= current ? .amount(current - net) : .negative
        }
    }

    // MARK: Reads

    /// The balance of (owner, asset); zero when the account has no row.
    static func balance(owner: EthereumAddress, assetID: String, _ db: SQLiteConnection) throws(StoreError) -> Amount {
        let s = try db.statement("SELECT amount FROM ledger_balances WHERE owner = ?1 AND asset_id = ?2")
        try s.bind(1, owner.bytes)
        try s.bind(2, assetID)
        guard try s.step() else { return .zero }
        let amount = try AmountEncoding.decode(s.blob(0), "ledger_balances.amount")
        s.reset()
        return amount
    }

    /// Every account's balance, ordered by owner then asset.
    static func balances(_ db: SQLiteConnection) throws(StoreError) -> [LedgerBalance] {
        let s = try db.statement("SELECT owner, asset_id, amount FROM ledger_balances ORDER BY owner, asset_id")
        var result: [LedgerBalance] = []
        while try s.step() {
            result.append(LedgerBalance(owner: try BytesDecoding.decode(EthereumAddress.self, s.blob(0), "ledger_balances.owner"),
                                        assetID: s.text(1) ?? "",
                                        amount: try AmountEncoding.decode(s.blob(2), "ledger_balances.amount")))
        }
        return result
    }

    /// What a channel holds in escrow: its `ledger_escrows` row, or before any entry the opening
    /// value (`escrowBefore`); nil for an unknown channel.
    static func escrow(channel: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> Amount? {
        let s = try db.statement("SELECT amount FROM ledger_escrows WHERE channel = ?1")
        try s.bind(1, channel.bytes)
        if try s.step() {
            let amount = try AmountEncoding.decode(s.blob(0), "ledger_escrows.amount")
            s.reset()
            return amount
        }
        return try escrowBefore(channel: channel, db)
    }

    /// The escrow of a channel with no ledger entry yet: zero for a payer (its deposit enters only
    /// with its own `depositLock`); for a payee, the channel's deposit TERM — the most it can be paid
    /// out — which is not a balance of anyone in this node's books. nil for an unknown channel.
    static func escrowBefore(channel: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> Amount? {
        let s = try db.statement("SELECT role, deposit FROM channels WHERE id = ?1")
        try s.bind(1, channel.bytes)
        guard try s.step() else { return nil }
        let payee = s.text(0) == ChannelRole.payee.rawValue
        let deposit = try AmountEncoding.decode(s.blob(1), "channels.deposit")
        s.reset()
        return payee ? deposit : .zero
    }

    static func assetsByFirstUse(_ db: SQLiteConnection) throws(StoreError) -> [Asset] {
        let s = try db.statement("""
            SELECT asset_id, asset_decimals, MIN(id) AS first FROM ledger_entries
            GROUP BY asset_id, asset_decimals ORDER BY first
            """)
        var result: [Asset] = []
        while try s.step() {
            do { result.append(try Asset(id: s.text(0) ?? "", decimals: UInt8(clamping: s.int64(1)))) } catch {
                throw .corrupt("ledger_entries.asset: \(error)")
            }
        }
        return result
    }

    static func entries(where clause: String, bind: (SQLiteStatement) throws(StoreError) -> Void, _ db: SQLiteConnection) throws(StoreError) -> [LedgerEntry] {
        let s = try db.statement("""
            SELECT owner, asset_id, asset_decimals, direction, amount, reason, channel, ts FROM ledger_entries
            WHERE \(clause) ORDER BY id
            """)
        try bind(s)
        var result: [LedgerEntry] = []
        while try s.step() {
            let asset: Asset
            do { asset = try Asset(id: s.text(1) ?? "", decimals: UInt8(clamping: s.int64(2))) } catch {
                throw .corrupt("ledger_entries.asset: \(error)")
            }
            guard let direction = LedgerEntry.Direction(rawValue: s.int64(3)) else { throw .corrupt("ledger_entries.direction") }
            guard let reason = LedgerReason(rawValue: s.text(5) ?? "") else { throw .corrupt("ledger_entries.reason") }
            result.append(LedgerEntry(
                owner: try BytesDecoding.decode(EthereumAddress.self, s.blob(0), "ledger_entries.owner"),
                asset: asset, direction: direction,
                amount: try AmountEncoding.decode(s.blob(4), "ledger_entries.amount"),
                reason: reason,
                channel: try BytesDecoding.decodeOptional(ChannelID.self, s.blob(6), "ledger_entries.channel"),
                timestampMillis: s.int64(7)))
        }
        return result
    }

    // MARK: Writes (writer thread, inside the request's savepoint)

    static func setBalance(owner: EthereumAddress, assetID: String, _ amount: UInt128, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("""
            INSERT INTO ledger_balances (owner, asset_id, amount) VALUES (?1, ?2, ?3)
            ON CONFLICT (owner, asset_id) DO UPDATE SET amount = excluded.amount
            """) { s throws(StoreError) in
            try s.bind(1, owner.bytes)
            try s.bind(2, assetID)
            try s.bind(3, AmountEncoding.encode(Amount(amount)))
        }
    }

    static func setEscrow(channel: ChannelID, _ amount: UInt128, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("""
            INSERT INTO ledger_escrows (channel, amount) VALUES (?1, ?2)
            ON CONFLICT (channel) DO UPDATE SET amount = excluded.amount
            """) { s throws(StoreError) in
            try s.bind(1, channel.bytes)
            try s.bind(2, AmountEncoding.encode(Amount(amount)))
        }
    }

    // MARK: Migration v3

    /// Fills `ledger_balances` and `ledger_escrows` from a v2 file's entries (summed once, here).
    /// A sum that passes 2^128 − 1 or goes negative cannot come from a valid v2 store: corrupt.
    static func backfill(_ db: SQLiteConnection) throws(StoreError) {
        struct Key: Hashable { let owner: [UInt8]; let asset: String }
        var accounts: [Key: Change] = [:]
        var escrows: [[UInt8]: Change] = [:]
        let s = try db.statement("SELECT owner, asset_id, direction, amount, reason, channel FROM ledger_entries ORDER BY id")
        while try s.step() {
            let amount = try AmountEncoding.decode(s.blob(3), "ledger_entries.amount").atomicUnits
            let key = Key(owner: s.blob(0) ?? [], asset: s.text(1) ?? "")
            guard accounts[key, default: Change()].add(amount, credit: s.int64(2) == 1) else {
                throw .corrupt("ledger sum exceeds 2^128 - 1")
            }
            guard let channel = s.blob(5) else { continue }
            switch s.text(4) {
            case LedgerReason.depositLock.rawValue:
                guard escrows[channel, default: Change()].add(amount, credit: true) else { throw .corrupt("escrow sum exceeds 2^128 - 1") }
            case LedgerReason.payout.rawValue, LedgerReason.refund.rawValue:
                guard escrows[channel, default: Change()].add(amount, credit: false) else { throw .corrupt("escrow sum exceeds 2^128 - 1") }
            default: break
            }
        }
        for (key, change) in accounts {
            guard case .amount(let balance) = change.applied(to: 0) else { throw .corrupt("negative balance for \(key.asset)") }
            let owner = try BytesDecoding.decode(EthereumAddress.self, key.owner, "ledger_entries.owner")
            try setBalance(owner: owner, assetID: key.asset, balance, db)
        }
        for (channel, change) in escrows {
            guard case .amount(let escrow) = change.applied(to: 0) else { throw .corrupt("negative escrow in ledger_entries") }
            try setEscrow(channel: try BytesDecoding.decode(ChannelID.self, channel, "ledger_entries.channel"), escrow, db)
        }
    }
}
