import PaymeshMessages

/// Balances derived from ledger entries, summed in Swift as UInt128 with overflow checks.
/// Used by the writer (to refuse overdrafts) and by readers.
enum LedgerQueries {
    /// Credits and debits summed separately; an overflow means the file is corrupt.
    private struct Sum {
        var credits: UInt128 = 0
        var debits: UInt128 = 0

        mutating func add(_ amount: Amount, credit: Bool) throws(StoreError) {
            let (sum, overflow) = credit
                ? credits.addingReportingOverflow(amount.atomicUnits)
                : debits.addingReportingOverflow(amount.atomicUnits)
            guard !overflow else { throw .corrupt("ledger sum exceeds 2^128 - 1") }
            if credit { credits = sum } else { debits = sum }
        }

        /// nil when negative.
        var net: Amount? { credits >= debits ? Amount(credits - debits) : nil }
    }

    /// The balance of (owner, asset); nil when the entries sum to a negative value.
    static func balance(owner: Address, assetID: String, _ db: SQLiteConnection) throws(StoreError) -> Amount? {
        let s = try db.statement("SELECT direction, amount FROM ledger_entries WHERE owner = ?1 AND asset_id = ?2")
        try s.bind(1, owner.bytes)
        try s.bind(2, assetID)
        var sum = Sum()
        while try s.step() {
            try sum.add(try AmountEncoding.decode(s.blob(1), "ledger_entries.amount"), credit: s.int64(0) == 1)
        }
        return sum.net
    }

    /// Every account's balance, ordered by owner then asset. Negative balances are corruption.
    static func balances(_ db: SQLiteConnection) throws(StoreError) -> [LedgerBalance] {
        let s = try db.statement("SELECT owner, asset_id, direction, amount FROM ledger_entries ORDER BY owner, asset_id")
        struct Key: Hashable { let owner: [UInt8]; let asset: String }
        var order: [Key] = []
        var sums: [Key: Sum] = [:]
        while try s.step() {
            let key = Key(owner: s.blob(0) ?? [], asset: s.text(1) ?? "")
            if sums[key] == nil { order.append(key) }
            try sums[key, default: Sum()].add(try AmountEncoding.decode(s.blob(3), "ledger_entries.amount"), credit: s.int64(2) == 1)
        }
        var result: [LedgerBalance] = []
        for key in order {
            guard let net = sums[key]!.net else { throw .corrupt("negative balance for \(key.asset)") }
            let owner = try BytesDecoding.decode(Address.self, key.owner, "ledger_entries.owner")
            result.append(LedgerBalance(owner: owner, assetID: key.asset, amount: net))
        }
        return result
    }

    /// What a channel holds in escrow: deposit locks minus payouts and refunds; nil when negative.
    static func escrow(channel: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> Amount? {
        let s = try db.statement("SELECT reason, amount FROM ledger_entries WHERE channel = ?1")
        try s.bind(1, channel.bytes)
        var sum = Sum()
        while try s.step() {
            let amount = try AmountEncoding.decode(s.blob(1), "ledger_entries.amount")
            switch s.text(0) {
            case LedgerReason.depositLock.rawValue: try sum.add(amount, credit: true)
            case LedgerReason.payout.rawValue, LedgerReason.refund.rawValue: try sum.add(amount, credit: false)
            default: break
            }
        }
        return sum.net
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
                owner: try BytesDecoding.decode(Address.self, s.blob(0), "ledger_entries.owner"),
                asset: asset, direction: direction,
                amount: try AmountEncoding.decode(s.blob(4), "ledger_entries.amount"),
                reason: reason,
                channel: try BytesDecoding.decodeOptional(ChannelID.self, s.blob(6), "ledger_entries.channel"),
                timestampMillis: s.int64(7)))
        }
        return result
    }
}
