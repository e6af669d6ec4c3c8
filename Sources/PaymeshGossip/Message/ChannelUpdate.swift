public import PaymeshMessages
import PaymeshMsgpack

/// One end's forwarding terms for a channel (Specs/gossip.md §7.2). Its signature is the
/// envelope's: the origin MUST be `peer_a` or `peer_b` of the announced channel, and the update
/// describes the direction from the origin. Its timestamp is the envelope's; a newer one wins.
public struct ChannelUpdate: Sendable, Hashable {
    public var channelID: ChannelID
    /// Flat fee per forwarded HTLC, atomic units.
    public var feeBase: Amount
    /// Proportional fee in parts per million (0…1,000,000).
    public var feePPM: UInt64
    public var htlcMinimum: Amount
    public var htlcMaximum: Amount
    /// Milliseconds, 1…2,592,000,000 (messages.md §4.8).
    public var expiryDeltaMillis: UInt64
    /// False: the end does not forward over this channel for now.
    public var enabled: Bool

    public init(channelID: ChannelID, feeBase: Amount, feePPM: UInt64, htlcMinimum: Amount, htlcMaximum: Amount,
                expiryDeltaMillis: UInt64, enabled: Bool) throws(GossipError) {
        guard MessageLimits.feePPM.contains(feePPM) else { throw GossipError.message("fee_ppm over 1000000") }
        guard MessageLimits.expiryDeltaMillis.contains(expiryDeltaMillis) else { throw GossipError.message("expiry_delta outside 1…2592000000") }
        guard htlcMinimum <= htlcMaximum else { throw GossipError.message("htlc_min above htlc_max") }
        self.channelID = channelID
        self.feeBase = feeBase
        self.feePPM = feePPM
        self.htlcMinimum = htlcMinimum
        self.htlcMaximum = htlcMaximum
        self.expiryDeltaMillis = expiryDeltaMillis
        self.enabled = enabled
    }

    init(_ data: MsgpackValue) throws(GossipError) {
        let f = try GossipFields(data, "channel_update", kind: .malformedMessage)
        try self.init(channelID: try f.fixed("channel_id"), feeBase: try f.amount("fee_base"),
                      feePPM: try f.uint("fee_ppm", in: MessageLimits.feePPM),
                      htlcMinimum: try f.amount("htlc_min"), htlcMaximum: try f.amount("htlc_max"),
                      expiryDeltaMillis: try f.uint("expiry_delta", in: MessageLimits.expiryDeltaMillis),
                      enabled: try f.bool("enabled"))
    }

    func encode() -> MsgpackValue {
        var w = GossipFieldWriter()
        w.binary("channel_id", channelID.bytes)
        w.amount("fee_base", feeBase)
        w.uint("fee_ppm", feePPM)
        w.amount("htlc_min", htlcMinimum)
        w.amount("htlc_max", htlcMaximum)
        w.uint("expiry_delta", expiryDeltaMillis)
        w.put("enabled", .bool(enabled))
        return w.value
    }
}
