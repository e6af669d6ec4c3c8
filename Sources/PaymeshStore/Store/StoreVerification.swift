import PaymeshMessages

/// Consistency checks of what a node acts on (Specs/storage.md, "Checks at start" and
/// "Reading history"). SQLite's checksums-free pages mean a flipped bit can pass for data: these
/// checks compare the redundant copies the schema keeps (the latest voucher is both in `channels`
/// and in `voucher_history`) and the ordering rules every history obeys.
enum StoreVerification {
    static func latestVouchers(_ db: SQLiteConnection) throws(StoreError) {
        for c in try ChannelQueries.all(db) {
            guard let latest = c.latestVoucher else {
                let s = try db.statement("""
                    SELECT count(*) FROM voucher_history
                    WHERE channel_key = (SELECT key FROM channel_keys WHERE channel = ?1)
                    """)
                try s.bind(1, c.id.bytes)
                _ = try s.step()
                let rows = s.int64(0)
                s.reset()
                guard rows == 0 else { throw .inconsistent("channel \(c.id) has no latest voucher but \(rows) history rows") }
                continue
            }
            guard latest.amount <= c.deposit else {
                throw .inconsistent("channel \(c.id): latest amount \(latest.amount) exceeds the deposit \(c.deposit)")
            }
            let top = try ChannelQueries.historyUpTo(c.id, nonce: UInt64(Int64.max), limit: 2, db)
            guard let highest = top.first else {
                throw .inconsistent("channel \(c.id): latest voucher \(latest.nonce) is missing from the history")
            }
            guard highest.nonce == latest.nonce else {
                throw .inconsistent("channel \(c.id): latest nonce \(latest.nonce) but the history's highest is \(highest.nonce)")
            }
            guard highest.amount == latest.amount, highest.signature == latest.signature else {
                throw .inconsistent("channel \(c.id): latest voucher \(latest.nonce) differs from its history row (amount or signature)")
            }
            if top.count > 1, top[1].amount > latest.amount {
                throw .inconsistent("channel \(c.id): history amount decreases at nonce \(latest.nonce)")
            }
        }
    }

    static func history(_ channel: ChannelID, after: UInt64, limit: Int, _ db: SQLiteConnection) throws(StoreError) -> [StoredVoucher] {
        let s = try db.statement("PRAGMA quick_check(voucher_history)")
        var problems: [String] = []
        while try s.step() { problems.append(s.text(0) ?? "") }
        guard problems == ["ok"] else {
            throw .corrupt("voucher_history: \(problems.prefix(3).joined(separator: "; "))")
        }
        let rows = try ChannelQueries.history(channel, after: after, limit: limit, db)
        var previous = after > 0 ? try ChannelQueries.historyUpTo(channel, nonce: after, limit: 1, db).first : nil
        for row in rows {
            if let p = previous {
                guard row.nonce > p.nonce, row.amount >= p.amount else {
                    throw .inconsistent("channel \(channel): history not monotonic at nonce \(row.nonce)")
                }
            }
            previous = row
        }
        if rows.count < limit, let c = try ChannelQueries.one(channel, db) {
            // The last page ends at the latest voucher (or the history is empty past `after`).
            let latest = c.latestVoucher?.nonce ?? 0
            let end = rows.last?.nonce ?? after
            guard end >= latest else {
                throw .inconsistent("channel \(channel): history ends at nonce \(end) but the latest voucher is \(latest)")
            }
        }
        return rows
    }
}
