import PaymeshMsgpack

/// 11 NEGOTIATE_ACCEPT: accept the last proposed or countered price (§4.11).
public struct NegotiateAccept: PaymeshMessage {
    public static let messageType = MessageType.negotiateAccept

    public var negotiationID: NegotiationID
    public var timestamp: UInt64

    public init(negotiationID: NegotiationID, timestamp: UInt64) {
        self.negotiationID = negotiationID
        self.timestamp = timestamp
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        self.init(negotiationID: try r.fixed("negotiation_id"), timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 2)
        w.fixed("negotiation_id", negotiationID)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
