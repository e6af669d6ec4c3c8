public import PaymeshMessages

/// What a channel machine asks its driver (the node) to do, in order. The driver performs them
/// one after the other and must not start an action before the previous `.persist` is durable
/// (Specs/channels.md §8).
public enum ChannelAction: Sendable, Hashable {
    /// Make this state durable (upsert the channel row; append the voucher to the log) BEFORE
    /// performing any later action of the same list.
    case persist(ChannelSnapshot)
    /// Append a signed receipt to the channel's receipt log (durable, before the next `.persist`).
    case recordReceipt(Receipt)
    /// Send a message to the channel's peer on the payments stream.
    case send(Message)
    /// Ask the settlement backend to move money; feed its results back with `onSettlement`.
    case settle(SettlementRequest)
    /// Call `onTimerTick(now:)` at or after this time (ms).
    case scheduleTimer(deadline: UInt64)
    /// Tell subscribers (console `subscribe`, logs).
    case notify(ChannelNotification)
}

/// Events for subscribers and logs.
public enum ChannelNotification: Sendable, Hashable {
    case stateChanged(ChannelID, from: ChannelState, to: ChannelState)
    case openRejected(ChannelID, code: PaymeshErrorCode, reason: String?)
    /// Payer: the payee acknowledged vouchers up to `nonce`.
    case paymentAcknowledged(ChannelID, nonce: UInt64, cumulative: UInt128)
    /// Payer: the payee refused voucher `nonce`.
    case paymentRejected(ChannelID, nonce: UInt64, code: PaymeshErrorCode, reason: String?)
    /// Payee: a new voucher was accepted.
    case paymentReceived(ChannelID, nonce: UInt64, increment: UInt128, cumulative: UInt128, taskID: String?)
    /// Payee: a peer message was refused (also answered on the wire).
    case peerMessageRejected(ChannelID, code: PaymeshErrorCode, detail: String)
    /// Payer: the payee presented a voucher of ours newer than our persisted state (we restored an
    /// old database); we adopted it.
    case stateRecovered(ChannelID, nonce: UInt64, cumulative: UInt128)
    case closeRejected(ChannelID, code: PaymeshErrorCode, reason: String?)
    case disputed(ChannelID, nonce: UInt64, cumulative: UInt128)
    case settlementSubmitted(ChannelID, SettlementID)
    case settlementFailed(ChannelID, reason: String)
    /// Terminal. `offChain` is true for the local ledger (no chain was involved).
    case settled(ChannelID, payeeAmount: UInt128, refund: UInt128, offChain: Bool)
}
