import PaymeshMessages

/// Writing and reading the invoice and payment journal tables (schema v7, Specs/storage.md
/// "Invoices and payments").
enum InvoiceQueries {
    /// A new invoice (its payment hash must be new: a preimage is never replaced).
    static func insert(_ r: InvoiceRecord, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("""
            INSERT INTO invoices (payment_hash, preimage, invoice, amount, asset_id, asset_decimals, memo, created, expires_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            """) { s throws(StoreError) in
            try s.bind(1, r.paymentHash.bytes)
            try s.bind(2, r.preimage.bytes)
            try s.bind(3, r.invoice)
            try s.bind(4, r.amount.map { AmountEncoding.encode($0) })
            try s.bind(5, r.asset.id)
            try s.bind(6, Int64(r.asset.decimals))
            try s.bind(7, r.memo)
            try s.bind(8, try IntegerEncoding.int64(r.createdMillis, "invoices.created"))
            try s.bind(9, try IntegerEncoding.int64(r.expiresAtMillis, "invoices.expires_at"))
        }
    }

    /// Marks an invoice paid (once: a paid invoice keeps its first payment).
    static func markPaid(_ p: InvoicePayment, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("UPDATE invoices SET paid_amount = ?2, paid_at = ?3, paid_channel = ?4 WHERE payment_hash = ?1 AND paid_at IS NULL") { s throws(StoreError) in
            try s.bind(1, p.paymentHash.bytes)
            try s.bind(2, AmountEncoding.encode(p.amount))
            try s.bind(3, try IntegerEncoding.int64(p.atMillis, "invoices.paid_at"))
            try s.bind(4, p.channelID.bytes)
        }
    }

    static func all(_ db: SQLiteConnection) throws(StoreError) -> [InvoiceRecord] {
        let s = try db.statement("""
            SELECT payment_hash, preimage, invoice, amount, asset_id, asset_decimals, memo, created, expires_at, paid_amount, paid_at, paid_channel
            FROM invoices ORDER BY created, payment_hash
            """)
        var out: [InvoiceRecord] = []
        while try s.step() {
            let hash = try BytesDecoding.decode(Hash32.self, s.blob(0), "invoices.payment_hash")
            let asset: Asset
            do { asset = try Asset(id: s.text(4) ?? "", decimals: UInt8(clamping: s.int64(5))) } catch { throw .corrupt("invoices.asset: \(error)") }
            var r = InvoiceRecord(paymentHash: hash, preimage: try BytesDecoding.decode(Hash32.self, s.blob(1), "invoices.preimage"),
                                  invoice: s.text(2) ?? "", amount: s.isNull(3) ? nil : try AmountEncoding.decode(s.blob(3), "invoices.amount"),
                                  asset: asset, memo: s.text(6) ?? "",
                                  createdMillis: try IntegerEncoding.uint64(s.int64(7), "invoices.created"),
                                  expiresAtMillis: try IntegerEncoding.uint64(s.int64(8), "invoices.expires_at"))
            if !s.isNull(10) {
                r.paid = InvoicePayment(paymentHash: hash, amount: try AmountEncoding.decode(s.blob(9), "invoices.paid_amount"),
                                        channelID: try BytesDecoding.decode(ChannelID.self, s.blob(11), "invoices.paid_channel"),
                                        atMillis: try IntegerEncoding.uint64(s.int64(10), "invoices.paid_at"))
            }
            out.append(r)
        }
        return out
    }

    /// Inserts or replaces a payment's journal entry.
    static func savePayment(_ p: StoredPayment, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("INSERT OR REPLACE INTO payments (id, payment_hash, created, record) VALUES (?1, ?2, ?3, ?4)") { s throws(StoreError) in
            try s.bind(1, p.id)
            try s.bind(2, p.paymentHash.bytes)
            try s.bind(3, try IntegerEncoding.int64(p.createdMillis, "payments.created"))
            try s.bind(4, p.record)
        }
    }

    static func payments(_ db: SQLiteConnection) throws(StoreError) -> [StoredPayment] {
        let s = try db.statement("SELECT id, payment_hash, created, record FROM payments ORDER BY created, id")
        var out: [StoredPayment] = []
        while try s.step() {
            out.append(StoredPayment(id: s.blob(0) ?? [], paymentHash: try BytesDecoding.decode(Hash32.self, s.blob(1), "payments.payment_hash"),
                                     createdMillis: try IntegerEncoding.uint64(s.int64(2), "payments.created"), record: s.blob(3) ?? []))
        }
        return out
    }
}
