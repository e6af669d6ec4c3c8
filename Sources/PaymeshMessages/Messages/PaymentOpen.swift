import PaymeshCrypto
import PaymeshMsgpack

/// 1 PAYMENT_OPEN: the payer proposes a one-way channel and signs its terms
/// (EIP-712 `ChannelOpen`, Specs/messages.md §4.1).
public struct PaymentOpen: PaymeshMessage {
    public static let messageType = MessageType.paymentOpen

    public var channelID: ChannelID
    /// The payer, who funds the channel and signs vouchers.
    public var sender: EthereumAddress
    /// The payee.
    public var receiver: EthereumAddress
    public var asset: Asset
    public var totalDeposit: Amount
    public var challengePeriodSeconds: UInt64
    /// Settlement backend id, e.g. "local-ledger".
    public var settlement: String
    public var chainID: UInt64
    /// Settlement contract, or `EthereumAddress.zero` when none.
    public var verifyingContract: EthereumAddress
    public var nonce: UInt64
    /// Milliseconds since the Unix epoch.
    public var timestamp: UInt64
    /// The payer's EIP-712 signature over `ChannelOpen`.
    public var signature: Signature65

    public init(
        channelID: ChannelID, sender: EthereumAddress, receiver: EthereumAddress, asset: Asset, totalDeposit: Amount,
        challengePeriodSeconds: UInt64, settlement: String, chainID: UInt64, verifyingContract: EthereumAddress,
        nonce: UInt64, timestamp: UInt64, signature: Signature65
    ) throws(MessageError) {
        try require(MessageLimits.challengePeriodSeconds.contains(challengePeriodSeconds), Self.messageType,
                    "challenge_period outside 1…31536000 s")
        try require(MessageLimits.settlementBytes.containsLength(of: settlement), Self.messageType,
                    "settlement must be 1…32 bytes")
        self.channelID = channelID
        self.sender = sender
        self.receiver = receiver
        self.asset = asset
        self.totalDeposit = totalDeposit
        self.challengePeriodSeconds = challengePeriodSeconds
        self.settlement = settlement
        self.chainID = chainID
        self.verifyingContract = verifyingContract
        self.nonce = nonce
        self.timestamp = timestamp
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            sender: try r.fixed("sender"),
            receiver: try r.fixed("receiver"),
            asset: try r.asset(),
            totalDeposit: try r.amount("total_deposit"),
            challengePeriodSeconds: try r.uint("challenge_period", in: MessageLimits.challengePeriodSeconds),
            settlement: try r.string("settlement", bytes: MessageLimits.settlementBytes),
            chainID: try r.uint("chain_id"),
            verifyingContract: try r.fixed("verifying_contract"),
            nonce: try r.uint("nonce"),
            timestamp: try r.uint("timestamp"),
            signature: try r.fixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 13)
        w.fixed("channel_id", channelID)
        w.fixed("sender", sender)
        w.fixed("receiver", receiver)
        w.asset(asset)
        w.amount("total_deposit", totalDeposit)
        w.uint("challenge_period", challengePeriodSeconds)
        w.string("settlement", settlement)
        w.uint("chain_id", chainID)
        w.fixed("verifying_contract", verifyingContract)
        w.uint("nonce", nonce)
        w.uint("timestamp", timestamp)
        w.fixed("signature", signature)
        return w.value
    }
}
