import PaymeshCrypto
import PaymeshMsgpack

/// 9 NEGOTIATE_PROPOSE: propose a price for a service and the deposit of the channel to pay it (§4.9).
/// The sender is the buyer, the receiver sells `service_type`; Paymesh adds the unit, SLA terms, the
/// term of the agreement and the buyer's signature over `NegotiationStep` (§4.9.1, §5.9).
public struct NegotiatePropose: PaymeshMessage {
    public static let messageType = MessageType.negotiatePropose

    public var negotiationID: NegotiationID
    /// Service identifier, 1…64 bytes.
    public var serviceType: String
    public var proposedPrice: Amount
    public var asset: Asset
    public var channelDeposit: Amount
    /// How long the proposal stands, seconds (1…86,400).
    public var timeoutSeconds: UInt64
    public var timestamp: UInt64
    /// What `proposed_price` buys: "call", "token", "second" or "byte" (1…16 bytes; absent: "call").
    public var unit: String
    /// SLA: the 99th percentile latency the seller commits to, ms (0: no commitment).
    public var latencyP99Millis: UInt32
    /// SLA: the upstream error rate the seller commits to stay at or below, basis points (10,000: no commitment).
    public var errorRateBasisPoints: UInt16
    /// How long the agreed terms hold after the accept, seconds.
    public var termSeconds: UInt32
    /// The buyer's signature over `NegotiationStep` (§5.9); required by Paymesh nodes.
    public var signature: Signature65?

    public init(negotiationID: NegotiationID, serviceType: String, proposedPrice: Amount, asset: Asset,
                channelDeposit: Amount, timeoutSeconds: UInt64, timestamp: UInt64,
                unit: String = NegotiationLimits.defaultUnit, latencyP99Millis: UInt32 = 0,
                errorRateBasisPoints: UInt16 = NegotiationLimits.noErrorRateCommitment,
                termSeconds: UInt32 = NegotiationLimits.defaultTermSeconds, signature: Signature65? = nil) throws(MessageError) {
        try require(MessageLimits.serviceTypeBytes.containsLength(of: serviceType), Self.messageType,
                    "service_type must be 1…64 bytes")
        try require(MessageLimits.negotiationTimeoutSeconds.contains(timeoutSeconds), Self.messageType,
                    "timeout outside 1…86400 s")
        try NegotiationLimits.check(unit: unit, latency: latencyP99Millis, errorRate: errorRateBasisPoints, term: termSeconds,
                                    type: Self.messageType)
        self.negotiationID = negotiationID
        self.serviceType = serviceType
        self.proposedPrice = proposedPrice
        self.asset = asset
        self.channelDeposit = channelDeposit
        self.timeoutSeconds = timeoutSeconds
        self.timestamp = timestamp
        self.unit = unit
        self.latencyP99Millis = latencyP99Millis
        self.errorRateBasisPoints = errorRateBasisPoints
        self.termSeconds = termSeconds
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            negotiationID: try r.fixed("negotiation_id"),
            serviceType: try r.string("service_type", bytes: MessageLimits.serviceTypeBytes),
            proposedPrice: try r.amount("proposed_price"),
            asset: try r.asset(),
            channelDeposit: try r.amount("channel_deposit"),
            timeoutSeconds: try r.uint("timeout", in: MessageLimits.negotiationTimeoutSeconds),
            timestamp: try r.uint("timestamp"),
            unit: try r.optionalString("unit", bytes: NegotiationLimits.unitBytes) ?? NegotiationLimits.defaultUnit,
            latencyP99Millis: UInt32(try r.optionalUInt("latency_p99_ms", in: NegotiationLimits.latencyMillis) ?? 0),
            errorRateBasisPoints: UInt16(try r.optionalUInt("error_rate_bps", in: NegotiationLimits.errorRateBasisPoints)
                                         ?? UInt64(NegotiationLimits.noErrorRateCommitment)),
            termSeconds: UInt32(try r.optionalUInt("term", in: NegotiationLimits.termSeconds) ?? UInt64(NegotiationLimits.defaultTermSeconds)),
            signature: try r.optionalFixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 13)
        w.fixed("negotiation_id", negotiationID)
        w.string("service_type", serviceType)
        w.amount("proposed_price", proposedPrice)
        w.asset(asset)
        w.amount("channel_deposit", channelDeposit)
        w.uint("timeout", timeoutSeconds)
        w.uint("timestamp", timestamp)
        if signature != nil { // a Paymesh proposal: every extension field, canonical order (§4.9.1)
            w.string("unit", unit)
            w.uint("latency_p99_ms", UInt64(latencyP99Millis))
            w.uint("error_rate_bps", UInt64(errorRateBasisPoints))
            w.uint("term", UInt64(termSeconds))
            w.fixed("signature", signature)
        }
        return w.value
    }

    /// When the proposal lapses: `timestamp` + `timeout` seconds (ms, saturating).
    public var expiresAt: UInt64 {
        let (sum, overflow) = timestamp.addingReportingOverflow(timeoutSeconds * 1_000)
        return overflow ? UInt64.max : sum
    }

    /// The terms this proposal offers between `buyer` (its sender) and `seller` (its receiver).
    public func terms(buyer: EthereumAddress, seller: EthereumAddress) -> NegotiationTerms {
        NegotiationTerms(negotiationID: negotiationID, buyer: buyer, seller: seller, service: serviceType, price: proposedPrice,
                         unit: unit, asset: asset, deposit: channelDeposit, latencyP99Millis: latencyP99Millis,
                         errorRateBasisPoints: errorRateBasisPoints, termSeconds: termSeconds, expiresAt: expiresAt)
    }
}
