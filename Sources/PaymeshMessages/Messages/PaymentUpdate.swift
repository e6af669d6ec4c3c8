import PaymeshMsgpack

/// 2 PAYMENT_UPDATE: a cumulative voucher signed by the payer (EIP-712 `Voucher`, §4.2).
public struct PaymentUpdate: PaymeshMessage {
    public static let messageType = MessageType.paymentUpdate

    public var channelID: ChannelID
    /// Strictly increasing per channel, starting at 1.
    public var nonce: UInt64
    /// Cumulative amount paid in the channel so far.
    public var amount: Amount
    public var timestamp: UInt64
    /// Optional task the payment is for (1…128 bytes); signed via `taskIdHash`.
    public var taskID: String?
    /// Present on a conditional voucher (§4.2, §5.7, `/paymesh/payments/3`): the channel's pending
    /// HTLCs it keeps locked, 1…483 distinct ids; `amount` then includes them and `signature` covers
    /// `ConditionalVoucher`. Absent: a plain `Voucher`.
    public var locks: [HTLCID]?
    public var signature: Signature65

    public init(channelID: ChannelID, nonce: UInt64, amount: Amount, timestamp: UInt64, taskID: String? = nil,
                locks: [HTLCID]? = nil, signature: Signature65) throws(MessageError) {
        try require(nonce >= 1, Self.messageType, "nonce must be ≥ 1")
        if let taskID {
            try require(MessageLimits.taskIDBytes.containsLength(of: taskID), Self.messageType, "task_id must be 1…128 bytes")
        }
        if let locks {
            try require((1...MessageLimits.maxLocks).contains(locks.count), Self.messageType,
                        "locks must hold 1…\(MessageLimits.maxLocks) entries")
            try require(Set(locks).count == locks.count, Self.messageType, "locks repeats an htlc_id")
            try require(taskID == nil, Self.messageType, "a conditional voucher carries no task_id")
        }
        self.locks = locks
        self.channelID = channelID
        self.nonce = nonce
        self.amount = amount
        self.timestamp = timestamp
        self.taskID = taskID
        self.signature = signature
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            channelID: try r.fixed("channel_id"),
            nonce: try r.uint("nonce", in: 1...UInt64.max),
            amount: try r.amount("amount"),
            timestamp: try r.uint("timestamp"),
            taskID: try r.optionalString("task_id", bytes: MessageLimits.taskIDBytes),
            locks: try r.optionalHTLCIDs("locks", count: 1...MessageLimits.maxLocks),
            signature: try r.fixed("signature"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 6)
        w.fixed("channel_id", channelID)
        w.uint("nonce", nonce)
        w.amount("amount", amount)
        w.uint("timestamp", timestamp)
        w.string("task_id", taskID)
        if let locks { w.htlcIDs("locks", locks) }
        w.fixed("signature", signature)
        return w.value
    }
}
