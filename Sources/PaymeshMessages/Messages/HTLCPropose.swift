import PaymeshMsgpack

/// 5 HTLC_PROPOSE: offer an HTLC to the next hop (§4.5). The amount and expiry are this hop's;
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
    /// Exactly `MessageLimits.onionBytes` of opaque ciphertext.
    public var onion: [UInt8]
    public var timestamp: UInt64

    public init(channelID: ChannelID, htlcID: HTLCID, paymentHash: Hash32, amount: Amount, expiry: UInt64,
                onion: [UInt8], timestamp: UInt64) throws(MessageError) {
        try require(amount > .zero, Self.messageType, "amount must be > 0")
        try require(onion.count == MessageLimits.onionBytes, Self.messageType,
                    "onion must be \(MessageLimits.onionBytes) bytes")
        self.channelID = channelID
        self.htlcID = htlcID
        self.paymentHash = paymentHash
        self.amount = amount
        self.expiry = expiry
        self.onion = onion
        self.timestamp = timestamp
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
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 7)
        w.fixed("channel_id", channelID)
        w.fixed("htlc_id", htlcID)
        w.fixed("payment_hash", paymentHash)
        w.amount("amount", amount)
        w.uint("expiry", expiry)
        w.binary("onion", onion)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
