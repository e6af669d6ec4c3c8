import PaymeshMsgpack

/// 5 HTLC_PROPOSE: offer an HTLC to the next hop (§4.5) with the payer's **conditional voucher**
/// (§5.7): nonce `nonce` of the channel, cumulative `voucherAmount`, holding the HTLCs `locks` (the
/// channel's other pending HTLCs, by id) and this one last. The amount and expiry are this hop's;
/// per-hop fees and expiries for later hops travel inside the encrypted onion.
public struct HTLCPropose: PaymeshMessage {
    public static let messageType = MessageType.htlcPropose

    public var channelID: ChannelID
    public var htlcID: HTLCID
    /// SHA-256 of the preimage.
    public var paymentHash: Hash32
    /// Amount locked for this hop, > 0.
    public var amount: Amount
    /// Absolute expiry, milliseconds since the Unix epoch.
    public var expiry: UInt64
    /// Exactly `MessageLimits.onionBytes` (the whole Sphinx packet, Specs/onion.md §2).
    public var onion: [UInt8]
    /// The conditional voucher's nonce: the channel's next voucher nonce, 1…2^63 − 1.
    public var nonce: UInt64
    /// The conditional voucher's cumulative amount (unconditional part + every lock), ≥ `amount`.
    public var voucherAmount: Amount
    /// The channel's other HTLCs the voucher keeps locked, in the order signed; never `htlcID`.
    public var locks: [HTLCID]
    public var timestamp: UInt64
    /// The channel payer's signature over `ConditionalVoucher` (§5.7).
    public var signature: Signature65

    public init(channelID: ChannelID, htlcID: HTLCID, paymentHash: Hash32, amount: Amount, expiry: UInt64,
                onion: [UInt8], nonce: UInt64, voucherAmount: Amount, locks: [HTLCID] = [], timestamp: UInt64,
                signature: Signature65) throws(MessageError) {
        try require(amount > .zero, Self.messageType, "amount must be > 0")
        try require(onion.count == MessageLimits.onionBytes, Self.messageType,
                    "onion must be \(MessageLimits.onionBytes) bytes")
        try require((1...MessageLimits.maxVoucherNonce).contains(nonce), Self.messageType,
                    "nonce outside 1…2^63 − 1")
        try require(voucherAmount >= amount, Self.messageType, "voucher_amount below amount")
        try require(locks.count < MessageLimits.maxLocks, Self.messageType,
                    "locks holds \(locks.count) entries, at most \(MessageLimits.maxLocks - 1)")
        try require(!locks.contains(htlcID), Self.messageType, "locks repeats htlc_id")
        try require(Set(locks).count == locks.count, Self.messageType, "locks repeats an htlc_id")
        self.channelID = channelID
        self.htlcID = htlcID
        self.paymentHash = paymentHash
        self.amount = amount
        self.expiry = expiry
        self.onion = onion
        self.nonce = nonce
        self.voucherAmount = voucherAmount
        self.locks = locks
        self.timestamp = timestamp
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            htlcID: try r.fixed("htlc_id"),
            paymentHash: try r.fixed("payment_hash"),
            amount: try r.amount("amount"),
            expiry: try r.uint("expiry"),
            onion: try r.binary("onion", bytes: MessageLimits.onionBytes...MessageLimits.onionBytes),
            nonce: try r.uint("nonce", in: 1...MessageLimits.maxVoucherNonce),
            voucherAmount: try r.amount("voucher_amount"),
            locks: try Self.locks(r),
            timestamp: try r.uint("timestamp"),
            signature: try r.fixed("signature"))
    }

    /// `locks`: required, 0…482 distinct bin(16) ids.
    private static func locks(_ r: FieldReader) throws(MessageError) -> [HTLCID] {
        guard let ids = try r.optionalHTLCIDs("locks", count: 0...(MessageLimits.maxLocks - 1)) else {
            throw r.fail("locks", "missing")
        }
        return ids
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 11)
        w.fixed("channel_id", channelID)
        w.fixed("htlc_id", htlcID)
        w.fixed("payment_hash", paymentHash)
        w.amount("amount", amount)
        w.uint("expiry", expiry)
        w.binary("onion", onion)
        w.uint("nonce", nonce)
        w.amount("voucher_amount", voucherAmount)
        w.htlcIDs("locks", locks)
        w.uint("timestamp", timestamp)
        w.fixed("signature", signature)
        return w.value
    }

    /// This HTLC as a lock of the conditional voucher.
    public var lock: HTLCLock { HTLCLock(htlcID: htlcID, paymentHash: paymentHash, amount: amount, expiry: expiry) }

    /// The signed struct, given the locks named by `locks` (resolved by the receiver from its own
    /// record of the channel's HTLCs, in the same order).
    public func conditionalVoucher(otherLocks: [HTLCLock]) -> ConditionalVoucher {
        ConditionalVoucher(channelID: channelID, nonce: nonce, amount: voucherAmount, timestamp: timestamp,
                           locks: otherLocks + [lock])
    }
}
