import PaymeshMsgpack

/// 11 NEGOTIATE_ACCEPT: accept the last proposed or countered terms (§4.11). Paymesh adds the round
/// accepted and the acceptor's signature over `NegotiationStep`, which covers the hash of the
/// accepted offer's signature: the two signatures together bind both parties (§5.9).
public struct NegotiateAccept: PaymeshMessage {
    public static let messageType = MessageType.negotiateAccept

    public var negotiationID: NegotiationID
    public var timestamp: UInt64
    public var round: UInt32?
    public var signature: Signature65?

    public init(negotiationID: NegotiationID, timestamp: UInt64, round: UInt32? = nil, signature: Signature65? = nil) {
        self.negotiationID = negotiationID
        self.timestamp = timestamp
        self.round = round
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        self.init(negotiationID: try r.fixed("negotiation_id"), timestamp: try r.uint("timestamp"),
                  round: try r.optionalUInt("round", in: NegotiationLimits.rounds).map { UInt32($0) },
                  signature: try r.optionalFixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 4)
        w.fixed("negotiation_id", negotiationID)
        w.uint("timestamp", timestamp)
        w.uint("round", round.map { UInt64($0) })
        w.fixed("signature", signature)
        return w.value
    }
}
