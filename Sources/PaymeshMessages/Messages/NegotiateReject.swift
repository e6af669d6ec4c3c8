import PaymeshMsgpack

/// 12 NEGOTIATE_REJECT: end a negotiation without agreement (§4.12); Paymesh adds the round and the
/// sender's signature over `NegotiationStep` (§5.9).
public struct NegotiateReject: PaymeshMessage {
    public static let messageType = MessageType.negotiateReject

    public var negotiationID: NegotiationID
    /// Human-readable reason, 0…256 bytes.
    public var reason: String
    public var timestamp: UInt64
    public var round: UInt32?
    public var signature: Signature65?

    public init(negotiationID: NegotiationID, reason: String, timestamp: UInt64, round: UInt32? = nil,
                signature: Signature65? = nil) throws(MessageError) {
        try require(MessageLimits.reasonBytes.containsLength(of: reason), Self.messageType, "reason over 256 bytes")
        self.negotiationID = negotiationID
        self.reason = reason
        self.timestamp = timestamp
        self.round = round
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            negotiationID: try r.fixed("negotiation_id"),
            reason: try r.string("reason", bytes: MessageLimits.reasonBytes),
            timestamp: try r.uint("timestamp"),
            round: try r.optionalUInt("round", in: NegotiationLimits.rounds).map { UInt32($0) },
            signature: try r.optionalFixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 5)
        w.fixed("negotiation_id", negotiationID)
        w.string("reason", reason)
        w.uint("timestamp", timestamp)
        w.uint("round", round.map { UInt64($0) })
        w.fixed("signature", signature)
        return w.value
    }
}
