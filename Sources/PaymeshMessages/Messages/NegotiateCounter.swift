import PaymeshMsgpack

/// 10 NEGOTIATE_COUNTER: answer a proposal with another price (§4.10).
public struct NegotiateCounter: PaymeshMessage {
    public static let messageType = MessageType.negotiateCounter

    public var negotiationID: NegotiationID
    public var counterPrice: Amount
    public var timestamp: UInt64

    public init(negotiationID: NegotiationID, counterPrice: Amount, timestamp: UInt64) {
        self.negotiationID = negotiationID
        self.counterPrice = counterPrice
        self.timestamp = timestamp
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        self.init(
            negotiationID: try r.fixed("negotiation_id"),
            counterPrice: try r.amount("counter_price"),
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 3)
        w.fixed("negotiation_id", negotiationID)
        w.amount("counter_price", counterPrice)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
