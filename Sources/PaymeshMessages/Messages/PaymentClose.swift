import PaymeshMsgpack

/// 3 PAYMENT_CLOSE: closes a channel at a final state (EIP-712 `ChannelClose`, §4.3).
/// A cooperative close carries the counterparty's signature over the same state once it agrees.
public struct PaymentClose: PaymeshMessage {
    public static let messageType = MessageType.paymentClose

    public var channelID: ChannelID
    public var finalNonce: UInt64
    public var finalAmount: Amount
    public var cooperative: Bool
    public var timestamp: UInt64
    /// The closer's signature.
    public var signature: Signature65
    /// The other party's signature over the same `ChannelClose`; only when `cooperative`.
    public var counterSignature: Signature65?

    public init(channelID: ChannelID, finalNonce: UInt64, finalAmount: Amount, cooperative: Bool, timestamp: UInt64,
                signature: Signature65, counterSignature: Signature65? = nil) throws(MessageError) {
        try require(cooperative || counterSignature == nil, Self.messageType,
                    "counter_signature requires cooperative = true")
        self.channelID = channelID
        self.finalNonce = finalNonce
        self.finalAmount = finalAmount
        self.cooperative = cooperative
        self.timestamp = timestamp
        self.signature = signature
        self.counterSignature = counterSignature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            finalNonce: try r.uint("final_nonce"),
            finalAmount: try r.amount("final_amount"),
            cooperative: try r.bool("cooperative"),
            timestamp: try r.uint("timestamp"),
            signature: try r.fixed("signature"),
            counterSignature: try r.optionalFixed("counter_signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 7)
        w.fixed("channel_id", channelID)
        w.uint("final_nonce", finalNonce)
        w.amount("final_amount", finalAmount)
        w.bool("cooperative", cooperative)
        w.uint("timestamp", timestamp)
        w.fixed("signature", signature)
        w.fixed("counter_signature", counterSignature)
        return w.value
    }
}
