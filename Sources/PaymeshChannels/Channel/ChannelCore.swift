import PaymeshCrypto
import PaymeshMessages

/// What payer and payee share: the snapshot, the key, lifecycle moves, closes, timers and
/// settlement results (Specs/channels.md §6). Each side wraps one.
struct ChannelCore: Sendable {
    var snapshot: ChannelSnapshot
    let key: IdentityKey

    var terms: ChannelTerms { snapshot.terms }
    var state: ChannelState { snapshot.state }
    var channelID: ChannelID { snapshot.terms.channelID }
    var me: Address { snapshot.role == .payer ? terms.payer : terms.payee }
    var peer: Address { snapshot.role == .payer ? terms.payee : terms.payer }

    /// Applies a lifecycle event; appends a state-change notification when the state changed.
    mutating func move(_ event: ChannelEvent, _ actions: inout [ChannelAction]) throws(ChannelError) {
        let from = snapshot.state
        let to = try ChannelLifecycle.next(from, on: event)
        snapshot.state = to
        if to != from { actions.append(.notify(.stateChanged(channelID, from: from, to: to))) }
    }

    func persist(now: UInt64) -> ChannelAction {
        var s = snapshot
        s.updatedAt = now
        return .persist(s)
    }

    /// Answers a peer's message we refuse: PAYMENT_ACK rejected for payment messages.
    func reject(nonce: UInt64, _ error: ChannelError) -> [ChannelAction] {
        var actions: [ChannelAction] = [.notify(.peerMessageRejected(channelID, code: error.code, detail: error.detail))]
        if let ack = try? PaymentAck(channelID: channelID, nonce: nonce, status: .rejected,
                                     reason: Self.truncated(error.detail), errorCode: error.code) {
            actions.insert(.send(.paymentAck(ack)), at: 0)
        }
        return actions
    }

    func accepted(nonce: UInt64) -> ChannelAction {
        // `try!`-free: an accepted ack without reason or code always validates.
        guard let ack = try? PaymentAck(channelID: channelID, nonce: nonce, status: .accepted) else {
            preconditionFailure("an accepted PAYMENT_ACK is always valid")
        }
        return .send(.paymentAck(ack))
    }

    static func truncated(_ text: String) -> String {
        var t = text
        while t.utf8.count > MessageLimits.reasonBytes.upperBound { t.removeLast() }
        return t
    }

    func payout(nonce: UInt64, amount: UInt128, cooperative: Bool) -> Payout {
        Payout(channelID: channelID, payer: terms.payer, payee: terms.payee, asset: terms.asset.id,
               deposit: terms.deposit, payeeAmount: amount, finalNonce: nonce, cooperative: cooperative)
    }

    // MARK: Starting a close

    /// Builds, signs and records our PAYMENT_CLOSE at (finalNonce, finalAmount).
    mutating func startClose(cooperative: Bool, finalNonce: UInt64, finalAmount: UInt128,
                             now: UInt64) throws(ChannelError) -> [ChannelAction] {
        let replacing = state == .closing && snapshot.close.map { !$0.completed && $0.message.cooperative } == true
        guard state.acceptsPayments || (replacing && !cooperative) else { throw .notActive(state, "close") }
        let close: PaymentClose
        do {
            close = try PaymentClose(channelID: channelID, finalNonce: finalNonce, finalAmount: Amount(finalAmount),
                                     cooperative: cooperative, timestamp: now, signature: .unsigned)
                .signed(with: key, domain: terms.domain)
        } catch { throw .message(error) }
        var actions: [ChannelAction] = []
        try move(.closeStarted, &actions)
        let deadline = cooperative ? nil : Self.deadline(now, terms)
        snapshot.close = CloseRecord(message: close, initiatedLocally: true, completed: false, challengeDeadline: deadline,
                                     finalNonce: finalNonce, finalAmount: finalAmount, payoutRequested: false,
                                     settlementID: nil)
        actions.insert(persist(now: now), at: 0)
        actions.insert(.send(.paymentClose(close)), at: 1)
        if let deadline { actions.append(.scheduleTimer(deadline: deadline)) }
        return actions
    }

    static func deadline(_ now: UInt64, _ terms: ChannelTerms) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(terms.challengePeriodMillis)
        return overflow ? .max : sum
    }

    // MARK: Receiving a close

    /// `acceptsFinal` says whether (nonce, amount) is a state this side agrees to close at.
    /// `higher` is the payee's held voucher when it beats a unilateral close (dispute evidence).
    mutating func receiveClose(_ c: PaymentClose, now: UInt64, acceptsFinal: (UInt64, UInt128) -> Bool,
                               higher: (PaymentClose) -> PaymentUpdate?) -> [ChannelAction] {
        guard c.finalNonce <= MessageLimits.maxVoucherNonce else {
            // The store keeps nonces as signed 64-bit integers: refuse what it could not keep (1501).
            let error = ChannelError.message(MessageError(code: .malformedMessage, detail: "final_nonce \(c.finalNonce) exceeds 2^63 - 1",
                                                          refType: 3))
            return reject(nonce: c.finalNonce, error)
        }
        do {
            if !c.cooperative { return try receiveUnilateral(c, now: now, higher: higher) }
            if c.counterSignature == nil { return try receiveCooperativeProposal(c, now: now, acceptsFinal: acceptsFinal) }
            return try receiveCooperativeCompletion(c, now: now)
        } catch {
            return reject(nonce: c.finalNonce, error)
        }
    }

    private func verifyByPeer(_ c: PaymentClose) throws(ChannelError) {
        do { try c.verify(closer: peer, counterparty: me, domain: terms.domain) } catch { throw .invalidSignature(error.detail) }
    }

    private mutating func receiveCooperativeProposal(_ c: PaymentClose, now: UInt64,
                                                     acceptsFinal: (UInt64, UInt128) -> Bool) throws(ChannelError) -> [ChannelAction] {
        let crossing = state == .closing && snapshot.close.map { $0.initiatedLocally && !$0.completed && $0.message.cooperative } == true
        guard state.acceptsPayments || crossing else { throw .notActive(state, "cooperative close") }
        try verifyByPeer(c)
        let amount = c.finalAmount.atomicUnits
        guard amount <= terms.deposit, acceptsFinal(c.finalNonce, amount) else {
            throw .closeMismatch("final state (\(c.finalNonce), \(amount)) is not the latest voucher")
        }
        let answer: PaymentClose
        do { answer = try c.countersigned(with: key, domain: terms.domain) } catch { throw .message(error) }
        var actions: [ChannelAction] = []
        if !crossing { try move(.closeStarted, &actions) }
        snapshot.close = CloseRecord(message: answer, initiatedLocally: false, completed: true, challengeDeadline: nil,
                                     finalNonce: c.finalNonce, finalAmount: amount, payoutRequested: true, settlementID: nil)
        return [persist(now: now), .send(.paymentClose(answer)),
                .settle(.payout(payout(nonce: c.finalNonce, amount: amount, cooperative: true)))] + actions
    }

    private mutating func receiveCooperativeCompletion(_ c: PaymentClose, now: UInt64) throws(ChannelError) -> [ChannelAction] {
        guard state == .closing, var record = snapshot.close, record.initiatedLocally, !record.completed,
              record.message.cooperative else { throw .notActive(state, "counter-signed close") }
        let ours = record.message
        guard c.channelID == ours.channelID, c.finalNonce == ours.finalNonce, c.finalAmount == ours.finalAmount,
              c.timestamp == ours.timestamp, c.counterSignature == ours.signature else {
            throw .closeMismatch("counter-signed close differs from the close we proposed")
        }
        try verifyByPeer(c)
        record.message = c
        record.completed = true
        record.payoutRequested = true
        snapshot.close = record
        return [persist(now: now),
                .settle(.payout(payout(nonce: record.finalNonce, amount: record.finalAmount, cooperative: true)))]
    }

    private mutating func receiveUnilateral(_ c: PaymentClose, now: UInt64,
                                            higher: (PaymentClose) -> PaymentUpdate?) throws(ChannelError) -> [ChannelAction] {
        let replacing = state == .closing && snapshot.close.map { !$0.completed && $0.message.cooperative } == true
        guard state.acceptsPayments || replacing else { throw .notActive(state, "unilateral close") }
        try verifyByPeer(c)
        let amount = c.finalAmount.atomicUnits
        guard amount <= terms.deposit else { throw .insufficientFunds("close final amount exceeds the deposit") }
        var actions: [ChannelAction] = []
        try move(.closeStarted, &actions)
        let deadline = Self.deadline(now, terms)
        var record = CloseRecord(message: c, initiatedLocally: false, completed: false, challengeDeadline: deadline,
                                 finalNonce: c.finalNonce, finalAmount: amount, payoutRequested: false, settlementID: nil)
        var evidence: [ChannelAction] = []
        if let better = higher(c) {
            try move(.higherVoucher, &actions)
            record.finalNonce = better.nonce
            record.finalAmount = better.amount.atomicUnits
            evidence = [.send(.paymentUpdate(better)),
                        .notify(.disputed(channelID, nonce: better.nonce, cumulative: better.amount.atomicUnits))]
        }
        snapshot.close = record
        return [persist(now: now)] + evidence + [.scheduleTimer(deadline: deadline)] + actions
    }

    /// A voucher above the unilateral close's final state was presented (already verified as
    /// signed by the payer): it becomes the final state.
    mutating func presentHigher(_ v: PaymentUpdate, now: UInt64) -> [ChannelAction]? {
        guard state == .closing || state == .disputed, var record = snapshot.close, record.challengeDeadline != nil,
              !record.payoutRequested, v.nonce > record.finalNonce, v.amount.atomicUnits > record.finalAmount,
              v.amount.atomicUnits <= terms.deposit else { return nil }
        var actions: [ChannelAction] = []
        do { try move(.higherVoucher, &actions) } catch { return nil }
        record.finalNonce = v.nonce
        record.finalAmount = v.amount.atomicUnits
        snapshot.close = record
        return [persist(now: now), .notify(.disputed(channelID, nonce: v.nonce, cumulative: v.amount.atomicUnits))] + actions
    }

    // MARK: Time and settlement

    /// Requests the payout once a unilateral challenge period is over, or again after a failure.
    mutating func onTimerTick(now: UInt64) -> [ChannelAction] {
        guard state == .closing || state == .disputed, var record = snapshot.close, !record.payoutRequested else { return [] }
        if let deadline = record.challengeDeadline {
            guard now >= deadline else { return [] }
        } else if !record.completed {
            return []
        }
        record.payoutRequested = true
        snapshot.close = record
        return [persist(now: now), .settle(.payout(payout(nonce: record.finalNonce, amount: record.finalAmount,
                                                           cooperative: record.completed)))]
    }

    /// Payout results. Lock/release results are handled by the payer before calling this.
    mutating func onPayoutEvent(_ event: SettlementEvent, now: UInt64, offChain: Bool) -> [ChannelAction] {
        guard state == .closing || state == .disputed, var record = snapshot.close, record.payoutRequested else { return [] }
        var actions: [ChannelAction] = []
        switch event {
        case .submitted(let id, _, _):
            record.settlementID = id
            snapshot.close = record
            return [persist(now: now), .notify(.settlementSubmitted(channelID, id))]
        case .confirmed(let id, _, _):
            record.settlementID = id
            snapshot.close = record
            do { try move(.settlementConfirmed, &actions) } catch { return [] }
            let p = payout(nonce: record.finalNonce, amount: record.finalAmount, cooperative: record.completed)
            return [persist(now: now)] + actions
                + [.notify(.settled(channelID, payeeAmount: p.payeeAmount, refund: p.refund, offChain: offChain))]
        case .failed(_, _, _, let reason):
            record.payoutRequested = false
            snapshot.close = record
            do { try move(.settlementFailed, &actions) } catch { return [] }
            return [persist(now: now), .notify(.settlementFailed(channelID, reason: reason))] + actions
        }
    }
}
