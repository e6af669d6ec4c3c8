import PaymeshMessages

/// Writing and reading the HTLC tables (schema v6, Specs/storage.md "HTLCs").
enum HTLCQueries {
    /// Replaces the channel's HTLC state as a whole (inside the caller's savepoint).
    static func save(_ c: StoredHTLCChannel, _ db: SQLiteConnection) throws(StoreError) {
        let known = try db.statement("SELECT 1 FROM channels WHERE id = ?1")
        try known.bind(1, c.channelID.bytes)
        defer { known.reset() }
        guard try known.step() else { throw .unknownChannel(c.channelID) }
        try db.run("""
            INSERT OR REPLACE INTO htlc_channels (channel, nonce, settled, voucher_amount, voucher_ts, voucher_signature)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """) { s throws(StoreError) in
            try s.bind(1, c.channelID.bytes)
            try s.bind(2, try IntegerEncoding.int64(c.nonce, "htlc_channels.nonce"))
            try s.bind(3, AmountEncoding.encode(c.settled))
            try s.bind(4, c.voucherAmount.map { AmountEncoding.encode($0) })
            try s.bind(5, try c.voucherTimestamp.map { v throws(StoreError) in try IntegerEncoding.int64(v, "htlc_channels.voucher_ts") })
            try s.bind(6, c.voucherSignature?.bytes)
        }
        try db.run("DELETE FROM htlcs WHERE channel = ?1") { s throws(StoreError) in try s.bind(1, c.channelID.bytes) }
        for (position, h) in c.htlcs.enumerated() {
            try db.run("""
                INSERT INTO htlcs (channel, position, htlc_id, side, state, payment_hash, amount, expiry, preimage, reason,
                                   link_channel, link_htlc, shared_secret)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                """) { s throws(StoreError) in
                try s.bind(1, c.channelID.bytes)
                try s.bind(2, Int64(position))
                try s.bind(3, h.htlcID.bytes)
                try s.bind(4, h.side.rawValue)
                try s.bind(5, h.state.rawValue)
                try s.bind(6, h.paymentHash.bytes)
                try s.bind(7, AmountEncoding.encode(h.amount))
                try s.bind(8, try IntegerEncoding.int64(h.expiryMillis, "htlcs.expiry"))
                try s.bind(9, h.preimage?.bytes)
                try s.bind(10, h.reason.map { Int64($0.rawValue) })
                try s.bind(11, h.linkChannel?.bytes)
                try s.bind(12, h.linkHTLC?.bytes)
                try s.bind(13, h.sharedSecret?.bytes)
            }
            try db.run("INSERT OR IGNORE INTO htlc_used_ids (channel, htlc_id) VALUES (?1, ?2)") { s throws(StoreError) in
                try s.bind(1, c.channelID.bytes)
                try s.bind(2, h.htlcID.bytes)
            }
        }
        // Invoices this state fulfils: marked paid in the same request (Specs/storage.md "Invoices and payments").
        for p in c.paidInvoices { try InvoiceQueries.markPaid(p, db) }
        // Origin outcomes of the HTLCs this state drops (Specs/storage.md "Route outcomes").
        for o in c.routeOutcomes { try RouteOutcomeQueries.save(o, db) }
        // The journal entry of the attempt this state offers (Specs/storage.md "Invoices and payments").
        for p in c.payments { try InvoiceQueries.savePayment(p, db) }
    }

    static func all(_ db: SQLiteConnection) throws(StoreError) -> [StoredHTLCChannel] {
        var channels: [StoredHTLCChannel] = []
        var index: [ChannelID: Int] = [:]
        let s = try db.statement("SELECT channel, nonce, settled, voucher_amount, voucher_ts, voucher_signature FROM htlc_channels ORDER BY channel")
        while try s.step() {
            let id = try BytesDecoding.decode(ChannelID.self, s.blob(0), "htlc_channels.channel")
            var c = StoredHTLCChannel(channelID: id, nonce: try IntegerEncoding.uint64(s.int64(1), "htlc_channels.nonce"),
                                      settled: try AmountEncoding.decode(s.blob(2), "htlc_channels.settled"), htlcs: [])
            if !s.isNull(3) {
                c.voucherAmount = try AmountEncoding.decode(s.blob(3), "htlc_channels.voucher_amount")
                c.voucherTimestamp = try IntegerEncoding.uint64(s.int64(4), "htlc_channels.voucher_ts")
                c.voucherSignature = try BytesDecoding.decode(Signature65.self, s.blob(5), "htlc_channels.voucher_signature")
            }
            index[id] = channels.count
            channels.append(c)
        }
        let rows = try db.statement("""
            SELECT channel, htlc_id, side, state, payment_hash, amount, expiry, preimage, reason, link_channel, link_htlc, shared_secret
            FROM htlcs ORDER BY channel, position
            """)
        while try rows.step() {
            let id = try BytesDecoding.decode(ChannelID.self, rows.blob(0), "htlcs.channel")
            guard let i = index[id] else { throw .corrupt("htlcs row of a channel without htlc_channels") }
            guard let side = StoredHTLC.Side(rawValue: rows.text(2) ?? ""), let state = StoredHTLC.State(rawValue: rows.text(3) ?? "") else {
                throw .corrupt("htlcs.side or htlcs.state")
            }
            var h = StoredHTLC(htlcID: try BytesDecoding.decode(HTLCID.self, rows.blob(1), "htlcs.htlc_id"), side: side, state: state,
                               paymentHash: try BytesDecoding.decode(Hash32.self, rows.blob(4), "htlcs.payment_hash"),
                               amount: try AmountEncoding.decode(rows.blob(5), "htlcs.amount"),
                               expiryMillis: try IntegerEncoding.uint64(rows.int64(6), "htlcs.expiry"),
                               preimage: try BytesDecoding.decodeOptional(Hash32.self, rows.blob(7), "htlcs.preimage"))
            if !rows.isNull(8) { h.reason = PaymeshErrorCode(rawValue: UInt16(clamping: rows.int64(8))) }
            h.linkChannel = try BytesDecoding.decodeOptional(ChannelID.self, rows.blob(9), "htlcs.link_channel")
            h.linkHTLC = try BytesDecoding.decodeOptional(HTLCID.self, rows.blob(10), "htlcs.link_htlc")
            h.sharedSecret = try BytesDecoding.decodeOptional(Hash32.self, rows.blob(11), "htlcs.shared_secret")
            channels[i].htlcs.append(h)
        }
        // Used ids not held any more (the table's primary key orders them by bytes).
        let used = try db.statement("""
            SELECT u.channel, u.htlc_id FROM htlc_used_ids u
            WHERE NOT EXISTS (SELECT 1 FROM htlcs h WHERE h.channel = u.channel AND h.htlc_id = u.htlc_id)
            ORDER BY u.channel, u.htlc_id
            """)
        while try used.step() {
            let id = try BytesDecoding.decode(ChannelID.self, used.blob(0), "htlc_used_ids.channel")
            guard let i = index[id] else { throw .corrupt("htlc_used_ids row of a channel without htlc_channels") }
            channels[i].retiredIDs.append(try BytesDecoding.decode(HTLCID.self, used.blob(1), "htlc_used_ids.htlc_id"))
        }
        return channels
    }
}
