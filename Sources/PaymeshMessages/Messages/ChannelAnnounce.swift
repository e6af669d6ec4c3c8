import PaymeshCrypto
import PaymeshMsgpack

/// 8 CHANNEL_ANNOUNCE: both ends advertise a channel and its forwarding terms (§4.8,
/// EIP-712 `ChannelAnnouncement` signed by each end).
public struct ChannelAnnounce: PaymeshMessage {
    public static let messageType = MessageType.channelAnnounce

    public var channelID: ChannelID
    /// The bytewise smaller end; `peerA < peerB`.
    public var peerA: EthereumAddress
    public var peerB: EthereumAddress
    public var capacity: Amount
    public var asset: Asset
    /// Flat fee per forwarded HTLC.
    public var feeBase: Amount
    /// Proportional fee, parts per million (0…1,000,000).
    public var feePPM: UInt64
    /// Expiry delta this channel requires when forwarding, milliseconds.
    public var expiryDeltaMillis: UInt64
    public var timestamp: UInt64
    public var signatureA: Signature65
    public var signatureB: Signature65

    public init(channelID: ChannelID, peerA: EthereumAddress, peerB: EthereumAddress, capacity: Amount, asset: Asset,
                feeBase: Amount, feePPM: UInt64, expiryDeltaMillis: UInt64, timestamp: UInt64,
                signatureA: Signature65, signatureB: Signature65) throws(MessageError) {
        try require(peerA < peerB, Self.messageType, "peer_a must be bytewise less than peer_b")
        try require(MessageLimits.feePPM.contains(feePPM), Self.messageType, "fee_ppm over 1000000")
        try require(MessageLimits.expiryDeltaMillis.contains(expiryDeltaMillis), Self.messageType,
                    "expiry_delta outside 1…2592000000 ms")
        self.channelID = channelID
        self.peerA = peerA
        self.peerB = peerB
        self.capacity = capacity
        self.asset = asset
        self.feeBase = feeBase
        self.feePPM = feePPM
        self.expiryDeltaMillis = expiryDeltaMillis
        self.timestamp = timestamp
        self.signatureA = signatureA
        self.signatureB = signatureB
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            peerA: try r.fixed("peer_a"),
            peerB: try r.fixed("peer_b"),
            capacity: try r.amount("capacity"),
            asset: try r.asset(),
            feeBase: try r.amount("fee_base"),
            feePPM: try r.uint("fee_ppm", in: MessageLimits.feePPM),
            expiryDeltaMillis: try r.uint("expiry_delta", in: MessageLimits.expiryDeltaMillis),
            timestamp: try r.uint("timestamp"),
            signatureA: try r.fixed("signature_a"),
            signatureB: try r.fixed("signature_b"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 12)
        w.fixed("channel_id", channelID)
        w.fixed("peer_a", peerA)
        w.fixed("peer_b", peerB)
        w.amount("capacity", capacity)
        w.asset(asset)
        w.amount("fee_base", feeBase)
        w.uint("fee_ppm", feePPM)
        w.uint("expiry_delta", expiryDeltaMillis)
        w.uint("timestamp", timestamp)
        w.fixed("signature_a", signatureA)
        w.fixed("signature_b", signatureB)
        return w.value
    }
}
