import PaymeshMsgpack

/// 7 HTLC_CANCEL: fail an HTLC back towards the payer (§4.7).
public struct HTLCCancel: PaymeshMessage {
    public static let messageType = MessageType.htlcCancel

    public var channelID: ChannelID
    public var htlcID: HTLCID
    /// Why this hop cancels (a code of Specs/errors.md, 1000–1999).
    public var reason: PaymeshErrorCode
    /// Encrypted failure onion from the failing node, 0…1024 bytes, relayed opaquely.
    public var failure: [UInt8]
    public var timestamp: UInt64

    public init(channelID: ChannelID, htlcID: HTLCID, reason: PaymeshErrorCode, failure: [UInt8] = [],
                timestamp: UInt64) throws(MessageError) {
        try require(PaymeshErrorCode.wireRange.contains(UInt64(reason.rawValue)), Self.messageType,
                    "reason outside 1000…1999")
        try require(MessageLimits.failureBytes.contains(failure.count), Self.messageType, "failure over 1024 bytes")
        self.channelID = channelID
        self.htlcID = htlcID
        self.reason = reason
        self.failure = failure
        self.timestamp = timestamp
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            htlcID: try r.fixed("htlc_id"),
            reason: try r.errorCode("reason"),
            failure: try r.binary("failure", bytes: MessageLimits.failureBytes),
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 5)
        w.fixed("channel_id", channelID)
        w.fixed("htlc_id", htlcID)
        w.errorCode("reason", reason)
        w.binary("failure", failure)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
