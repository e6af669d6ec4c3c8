import PaymeshMsgpack

/// 10 NEGOTIATE_COUNTER: answer an offer with other terms (§4.10). AgentPay's message carries the
/// price only; Paymesh adds the round, the other negotiable terms (absent: unchanged from the offer
/// answered) and the sender's signature over `NegotiationStep` (§5.9).
public struct NegotiateCounter: PaymeshMessage {
    public static let messageType = MessageType.negotiateCounter

    public var negotiationID: NegotiationID
    public var counterPrice: Amount
    public var timestamp: UInt64
    /// 1 for the first counter, then +1 per counter (§4.9.2); required by Paymesh nodes.
    public var round: UInt32?
    public var channelDeposit: Amount?
    public var latencyP99Millis: UInt32?
    public var errorRateBasisPoints: UInt16?
    public var termSeconds: UInt32?
    public var signature: Signature65?

    public init(negotiationID: NegotiationID, counterPrice: Amount, timestamp: UInt64, round: UInt32? = nil,
                channelDeposit: Amount? = nil, latencyP99Millis: UInt32? = nil, errorRateBasisPoints: UInt16? = nil,
                termSeconds: UInt32? = nil, signature: Signature65? = nil) {
        self.negotiationID = negotiationID
        self.counterPrice = counterPrice
        self.timestamp = timestamp
        self.round = round
        self.channelDeposit = channelDeposit
        self.latencyP99Millis = latencyP99Millis
        self.errorRateBasisPoints = errorRateBasisPoints
        self.termSeconds = termSeconds
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        let deposit: Amount?
        if try r.optional("channel_deposit") != nil { deposit = try r.amount("channel_deposit") } else { deposit = nil }
        self.init(
            negotiationID: try r.fixed("negotiation_id"),
            counterPrice: try r.amount("counter_price"),
            timestamp: try r.uint("timestamp"),
            round: try r.optionalUInt("round", in: NegotiationLimits.rounds).map { UInt32($0) },
            channelDeposit: deposit,
            latencyP99Millis: try r.optionalUInt("latency_p99_ms", in: NegotiationLimits.latencyMillis).map { UInt32($0) },
            errorRateBasisPoints: try r.optionalUInt("error_rate_bps", in: NegotiationLimits.errorRateBasisPoints).map { UInt16($0) },
            termSeconds: try r.optionalUInt("term", in: NegotiationLimits.termSeconds).map { UInt32($0) },
            signature: try r.optionalFixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 9)
        w.fixed("negotiation_id", negotiationID)
        w.amount("counter_price", counterPrice)
        w.uint("timestamp", timestamp)
        w.uint("round", round.map { UInt64($0) })
        if let channelDeposit { w.amount("channel_deposit", channelDeposit) }
        w.uint("latency_p99_ms", latencyP99Millis.map { UInt64($0) })
        w.uint("error_rate_bps", errorRateBasisPoints.map { UInt64($0) })
        w.uint("term", termSeconds.map { UInt64($0) })
        w.fixed("signature", signature)
        return w.value
    }

    /// The terms this counter offers: `previous` with the fields it carries replaced.
    public func terms(replacing previous: NegotiationTerms) -> NegotiationTerms {
        var t = previous
        t.price = counterPrice
        if let channelDeposit { t.deposit = channelDeposit }
        if let latencyP99Millis { t.latencyP99Millis = latencyP99Millis }
        if let errorRateBasisPoints { t.errorRateBasisPoints = errorRateBasisPoints }
        if let termSeconds { t.termSeconds = termSeconds }
        return t
    }
}
