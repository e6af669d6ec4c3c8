import PaymeshMsgpack

/// 9 NEGOTIATE_PROPOSE: propose a price for a service and the deposit of the channel to pay it (§4.9).
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

    public init(negotiationID: NegotiationID, serviceType: String, proposedPrice: Amount, asset: Asset,
                channelDeposit: Amount, timeoutSeconds: UInt64, timestamp: UInt64) throws(MessageError) {
        try require(MessageLimits.serviceTypeBytes.containsLength(of: serviceType), Self.messageType,
                    "service_type must be 1…64 bytes")
        try require(MessageLimits.negotiationTimeoutSeconds.contains(timeoutSeconds), Self.messageType,
                    "timeout outside 1…86400 s")
        self.negotiationID = negotiationID
        self.serviceType = serviceType
        self.proposedPrice = proposedPrice
        self.asset = asset
        self.channelDeposit = channelDeposit
        self.timeoutSeconds = timeoutSeconds
        self.timestamp = timestamp
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
            timestamp: try r.uint("timestamp"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 8)
        w.fixed("negotiation_id", negotiationID)
        w.string("service_type", serviceType)
        w.amount("proposed_price", proposedPrice)
        w.asset(asset)
        w.amount("channel_deposit", channelDeposit)
        w.uint("timeout", timeoutSeconds)
        w.uint("timestamp", timestamp)
        return w.value
    }
}
