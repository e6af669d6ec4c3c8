import PaymeshMessages

extension PayeeChannel {
    /// Proposes a cooperative close at the latest accepted voucher.
    public mutating func closeCooperatively(now: UInt64) throws(ChannelError) -> [ChannelAction] {
        try core.startClose(cooperative: true, finalNonce: latestVoucher?.nonce ?? 0, finalAmount: receivedAmount, now: now)
    }

    /// Closes without the payer at the latest accepted voucher; starts the challenge period. The
    /// held voucher (the payer's signature the close rests on) is sent just before the close (§6.2).
    public mutating func closeUnilaterally(now: UInt64) throws(ChannelError) -> [ChannelAction] {
        let held = latestVoucher
        var actions = try core.startClose(cooperative: false, finalNonce: held?.nonce ?? 0, finalAmount: receivedAmount, now: now)
        if let held, let i = actions.firstIndex(where: { if case .send = $0 { true } else { false } }) {
            actions.insert(.send(.paymentUpdate(held)), at: i)
        }
        return actions
    }

    public mutating func onTimerTick(now: UInt64) -> [ChannelAction] { core.onTimerTick(now: now) }

    /// Payout results (the payee never locks or releases deposits).
    public mutating func onSettlement(_ event: SettlementEvent, now: UInt64, offChain: Bool) -> [ChannelAction] {
        switch event {
        case .submitted(_, let id, .payout), .confirmed(_, let id, .payout), .failed(_, let id, .payout, _):
            guard id == channelID else { return [] }
            return core.onPayoutEvent(event, now: now, offChain: offChain)
        default:
            return []
        }
    }

    /// After a (re)connection: show the payer the latest voucher we hold (§8), so that a payer
    /// that lost state converges (and, in CLOSING or DISPUTED, as the evidence behind our close or
    /// dispute); then our own close again while it is unanswered (§6.4). Nothing before the first
    /// voucher.
    public func reestablish(now: UInt64) -> [ChannelAction] {
        if core.unansweredOwnClose != nil { return core.resendOwnClose() }
        if let answer = core.settledAnswer() { return answer }
        guard state.acceptsPayments || state == .closing || state == .disputed, let held = latestVoucher else { return [] }
        return [.send(.paymentUpdate(held))]
    }

    /// After a restart from a persisted snapshot: continues a close in progress (§6.4). Call once,
    /// before `reestablish`.
    public mutating func resume(now: UInt64) -> [ChannelAction] { core.resume(now: now) }

    /// Signs a receipt for the latest accepted voucher (optionally for a task and a usage
    /// quantity) and advances the chain. Actions: `.recordReceipt`, `.persist` (new chain head).
    public mutating func issueReceipt(taskID: String? = nil, usage: Usage? = nil,
                                      now: UInt64) throws(ChannelError) -> (Receipt, [ChannelAction]) {
        guard let held = latestVoucher else { throw .notActive(state, "receipt without a voucher") }
        if let taskID, !MessageLimits.taskIDBytes.contains(taskID.utf8.count) { throw .malformed("task id must be 1…128 bytes") }
        var chain = receipts
        let receipt = try chain.append(channelID: channelID, nonce: held.nonce, amount: held.amount.atomicUnits,
                                       taskID: taskID ?? held.taskID, usage: usage, timestamp: now,
                                       payeeKey: core.key, domain: terms.domain)
        receipts = chain
        core.snapshot.receiptSeq = chain.seq
        core.snapshot.receiptHead = chain.head
        return (receipt, [.recordReceipt(receipt), core.persist(now: now)])
    }
}
