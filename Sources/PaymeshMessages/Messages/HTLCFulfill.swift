import PaymeshMsgpack

/// 6 HTLC_FULFILL: settle an HTLC by revealing the preimage of its payment hash (§4.6).
public struct HTLCFulfill: PaymeshMessage {
    public static let messageType = MessageType.htlcFulfill

    public var channelID: ChannelID
    public var htlcID: HTLCID
    public var preimage: Hash32
    public var timestamp: UInt64

    public init(channelID: ChannelID, htlcID: HTLCID, preimage: Hash32, timestamp: UInt64) {
        self.channelID = channelID
        self.htlcID = htlcID
        self.preimage = preimage
        self.timestamp = timestamp
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        self.init(
            channelID: try r.fixed("channel_id"),
            htlcID: try r.fixed("htlc_id"),
            preimage: try r.fixed("preimage"),
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 4)
        w.fixed("channel_id", channelID)
        w.fixed("htlc_id", htlcID)
        w.fixed("preimage", preimage)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
