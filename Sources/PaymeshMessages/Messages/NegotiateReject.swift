import PaymeshMsgpack

/// 12 NEGOTIATE_REJECT: end a negotiation without agreement (§4.12).
public struct NegotiateReject: PaymeshMessage {
    public static let messageType = MessageType.negotiateReject

    public var negotiationID: NegotiationID
    /// Human-readable reason, 0…256 bytes.
    public var reason: String
    public var timestamp: UInt64

    public init(negotiationID: NegotiationID, reason: String, timestamp: UInt64) throws(MessageError) {
        try require(MessageLimits.reasonBytes.containsLength(of: reason), Self.messageType, "reason over 256 bytes")
        self.negotiationID = negotiationID
        self.reason = reason
        self.timestamp = timestamp
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            negotiationID: try r.fixed("negotiation_id"),
            reason: try r.string("reason", bytes: MessageLimits.reasonBytes),
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 3)
        w.fixed("negotiation_id", negotiationID)
        w.string("reason", reason)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
