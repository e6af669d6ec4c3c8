import PaymeshCrypto
import PaymeshMessages

/// Reading channels, history and receipts back into records.
enum ChannelQueries {
    private static let channelColumns = """
        id, role, local_address, remote_address, asset_id, asset_decimals, deposit, challenge_period,
        settlement_backend, chain_id, verifying_contract, state, open_signature, opened_at,
        latest_nonce, latest_amount, latest_signature, latest_task_id, latest_ts, locked_amount,
        close_reason, closed_at, close_nonce, close_amount, close_reference
        """

    static func all(_ db: SQLiteConnection) throws(StoreError) -> [ChannelRecord] {
        let s = try db.statement("SELECT \(channelColumns) FROM channels ORDER BY id")
        var result: [ChannelRecord] = []
        while try s.step() { result.append(try decodeChannel(s)) }
        return result
    }

    static func one(_ id: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> ChannelRecord? {
        let s = try db.statement("SELECT \(channelColumns) FROM channels WHERE id = ?1")
        try s.bind(1, id.bytes)
        defer { s.reset() }
        return try s.step() ? try decodeChannel(s) : nil
    }

    private static func decodeChannel(_ s: SQLiteStatement) throws(StoreError) -> ChannelRecord {
        let id = try BytesDecoding.decode(ChannelID.self, s.blob(0), "channels.id")
        guard let role = ChannelRole(rawValue: s.text(1) ?? "") else { throw .corrupt("channels.role") }
        guard let status = ChannelStatus(rawValue: s.text(11) ?? "") else { throw .corrupt("channels.state") }
        let asset: Asset
        do { asset = try Asset(id: s.text(4) ?? "", decimals: UInt8(clamping: s.int64(5))) } catch {
            throw .corrupt("channels.asset: \(error)")
        }
        let latestNonce = try IntegerEncoding.uint64(s.int64(14), "channels.latest_nonce")
        var latest: StoredVoucher?
        if latestNonce > 0 {
            latest = StoredVoucher(
                channel: id, nonce: latestNonce,
                amount: try AmountEncoding.decode(s.blob(15), "channels.latest_amount"),
                signature: try BytesDecoding.decode(Signature65.self, s.blob(16), "channels.latest_signature"),
                taskID: s.text(17), timestampMillis: s.int64(18))
        }
        var close: ChannelCloseInfo?
        if !s.isNull(20) {
            close = ChannelCloseInfo(
                reason: s.text(20) ?? "", closedAtMillis: s.int64(21),
                finalNonce: try IntegerEncoding.uint64(s.int64(22), "channels.close_nonce"),
                finalAmount: try AmountEncoding.decode(s.blob(23), "channels.close_amount"),
                settlementReference: s.text(24))
        }
        return ChannelRecord(
            id: id, role: role,
            localAddress: try BytesDecoding.decode(EthereumAddress.self, s.blob(2), "channels.local_address"),
            remoteAddress: try BytesDecoding.decode(EthereumAddress.self, s.blob(3), "channels.remote_address"),
            asset: asset,
            deposit: try AmountEncoding.decode(s.blob(6), "channels.deposit"),
            challengePeriodSeconds: try IntegerEncoding.uint64(s.int64(7), "channels.challenge_period"),
            settlementBackend: s.text(8) ?? "",
            chainID: try IntegerEncoding.uint64(s.int64(9), "channels.chain_id"),
            verifyingContract: try BytesDecoding.decode(EthereumAddress.self, s.blob(10), "channels.verifying_contract"),
            status: status,
            openSignature: try BytesDecoding.decodeOptional(Signature65.self, s.blob(12), "channels.open_signature"),
            openedAtMillis: s.int64(13),
            latestVoucher: latest,
            lockedAmount: try AmountEncoding.decode(s.blob(19), "channels.locked_amount"),
            closeInfo: close)
    }

    static func history(_ channel: ChannelID, after: UInt64, limit: Int, _ db: SQLiteConnection) throws(StoreError) -> [StoredVoucher] {
        let s = try db.statement("""
            SELECT nonce, amount, signature, task_id, ts FROM voucher_history
            WHERE channel_key = (SELECT key FROM channel_keys WHERE channel = ?1) AND nonce > ?2 ORDER BY nonce LIMIT ?3
            """)
        try s.bind(1, channel.bytes)
        try s.bind(2, Int64(clamping: after))
        try s.bind(3, Int64(limit))
        return try historyRows(channel, s)
    }

    /// History rows of a channel with nonce at most `nonce`, highest first, at most `limit`.
    static func historyUpTo(_ channel: ChannelID, nonce: UInt64, limit: Int, _ db: SQLiteConnection) throws(StoreError) -> [StoredVoucher] {
        let s = try db.statement("""
            SELECT nonce, amount, signature, task_id, ts FROM voucher_history
            WHERE channel_key = (SELECT key FROM channel_keys WHERE channel = ?1) AND nonce <= ?2 ORDER BY nonce DESC LIMIT ?3
            """)
        try s.bind(1, channel.bytes)
        try s.bind(2, Int64(clamping: nonce))
        try s.bind(3, Int64(limit))
        return try historyRows(channel, s)
    }

    /// The rows of a `SELECT nonce, amount, signature, task_id, ts FROM voucher_history …`.
    private static func historyRows(_ channel: ChannelID, _ s: SQLiteStatement) throws(StoreError) -> [StoredVoucher] {
        var result: [StoredVoucher] = []
        while try s.step() {
            result.append(StoredVoucher(
                channel: channel,
                nonce: try IntegerEncoding.uint64(s.int64(0), "voucher_history.nonce"),
                amount: try AmountEncoding.decode(s.blob(1), "voucher_history.amount"),
                signature: try BytesDecoding.decode(Signature65.self, s.blob(2), "voucher_history.signature"),
                taskID: s.text(3), timestampMillis: s.int64(4)))
        }
        return result
    }

    static func receipts(_ channel: ChannelID, _ db: SQLiteConnection) throws(StoreError) -> [ReceiptRecord] {
        let s = try db.statement("SELECT seq, hash, prev_hash, json, signature FROM receipts WHERE channel = ?1 ORDER BY seq")
        try s.bind(1, channel.bytes)
        var result: [ReceiptRecord] = []
        while try s.step() {
            result.append(ReceiptRecord(
                channel: channel,
                seq: try IntegerEncoding.uint64(s.int64(0), "receipts.seq"),
                hash: try BytesDecoding.decode(Hash32.self, s.blob(1), "receipts.hash"),
                prevHash: try BytesDecoding.decodeOptional(Hash32.self, s.blob(2), "receipts.prev_hash"),
                json: s.text(3) ?? "",
                signature: try BytesDecoding.decode(Signature65.self, s.blob(4), "receipts.signature")))
        }
        return result
    }
}
