import PaymeshCrypto
import PaymeshMessages

/// What payer and payee share: the snapshot, the key, lifecycle moves, closes, timers and
/// settlement results (Specs/channels.md §6). Each side wraps one.
struct ChannelCore: Sendable {
    var snapshot: ChannelSnapshot
    let key: IdentityKey
    /// When our unanswered cooperative proposal is sent again (not persisted: `resume` sets it).
    var closeRetryAt: UInt64?

    /// How long a cooperative proposal waits for its counter-signature before it is sent again
    /// (Specs/channels.md §6.4).
    static let closeRetryMillis: UInt64 = 10_000

    init(snapshot: ChannelSnapshot, key: IdentityKey) {
        self.snapshot = snapshot
        self.key = key
    }

    var terms: ChannelTerms { snapshot.terms }
    var state: ChannelState { snapshot.state }
    var channelID: ChannelID { snapshot.terms.channelID }
    var me: EthereumAddress { snapshot.role == .payer ? terms.payer : terms.payee }
    var peer: EthereumAddress { snapshot.role == .payer ? terms.payee : terms.payer }

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
        if let deadline {
            closeRetryAt = nil
            actions.append(.scheduleTimer(deadline: deadline))
        } else {
            actions.append(scheduleRetry(now: now))
        }
        return actions
    }

    static func deadline(_ now: UInt64, _ terms: ChannelTerms) -> UInt64 {
        let (sum, overflow) = now.addingReportingOverflow(terms.challengePeriodMillis)
        return overflow ? .max : sum
    }

    private mutating func scheduleRetry(now: UInt64) -> ChannelAction {
        let (at, overflow) = now.addingReportingOverflow(Self.closeRetryMillis)
        closeRetryAt = overflow ? .max : at
        return .scheduleTimer(deadline: closeRetryAt!)
    }

    /// Our unanswered close again, after the latest voucher (the payer's: its latest signed, which a
    /// payee that missed it needs to agree; the payee's: the payer's signature behind its close).
    func resendOwnClose() -> [ChannelAction] {
        guard let close = unansweredOwnClose else { return [] }
        if let v = snapshot.latestVoucher { return [.send(.paymentUpdate(v)), .send(.paymentClose(close))] }
        return [.send(.paymentClose(close))]
    }

    /// SETTLED on our own unilateral close: at re-establishment, or when the peer proposes a
    /// cooperative close (it never received ours), the peer gets our close again, after our latest
    /// voucher, so that it can finish too (§6.4). Nil otherwise. Nothing changes. Only a proposal is
    /// answered, so two settled sides never answer each other's answers.
    func settledAnswer() -> [ChannelAction]? {
        guard state == .settled, let record = snapshot.close, record.initiatedLocally, !record.message.cooperative else { return nil }
        if let v = snapshot.latestVoucher { return [.send(.paymentUpdate(v)), .send(.paymentClose(record.message))] }
        return [.send(.paymentClose(record.message))]
    }

    /// Our own close while the channel is not settled, unless the peer counter-signed it: sent
    /// again at re-establishment (§6.4, §8).
    var unansweredOwnClose: PaymentClose? {
        guard state == .closing || state == .disputed, let record = snapshot.close, record.initiatedLocally,
              !record.completed else { return nil }
        return record.message
    }

    // MARK: Receiving a close

    /// `acceptsFinal` says whether (nonce, amount) is a state this side agrees to close at.
    /// `higher` is the payee's held voucher when it beats a unilateral close (dispute evidence).
    /// `acceptsUnilateral` says whether the peer's unilateral close is at a state this side can pay
    /// out (the payer: at or below what it signed; the payee: any, the payer signed the close).
    mutating func receiveClose(_ c: PaymentClose, now: UInt64, acceptsFinal: (UInt64, UInt128) -> Bool,
                               acceptsUnilateral: (UInt64, UInt128) -> Bool,
                               higher: (PaymentClose) -> PaymentUpdate?) -> [ChannelAction] {
        guard c.finalNonce <= MessageLimits.maxVoucherNonce else {
            // The store keeps nonces as signed 64-bit integers: refuse what it could not keep (1501).
            let error = ChannelError.message(MessageError(code: .malformedMessage, detail: "final_nonce \(c.finalNonce) exceeds 2^63 - 1",
                                                          refType: 3))
            return reject(nonce: c.finalNonce, error)
        }
        if let record = snapshot.close {
            // A close we already hold, delivered again (re-establishment, retry): nothing changes.
            if record.message == c { return [] }
            // The peer sends again the proposal we counter-signed (it lost our answer, §6.4): answer
            // with the same counter-signed close, in any state (SETTLED included); nothing changes.
            if record.completed, !record.initiatedLocally, c.cooperative, c.counterSignature == nil,
               record.message.counterSignature == c.signature, record.message.finalNonce == c.finalNonce,
               record.message.finalAmount == c.finalAmount, record.message.timestamp == c.timestamp {
                return [.send(.paymentClose(record.message))]
            }
        }
        if c.cooperative, c.counterSignature == nil, let answer = settledAnswer() { return answer }
        do {
            if !c.cooperative { return try receiveUnilateral(c, now: now, acceptsUnilateral: acceptsUnilateral, higher: higher) }
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
                                     finalNonce: c.finalNonce, finalAmount: amount, payoutRequested: false, settlementID: nil)
        closeRetryAt = nil
        let pay = requestPayout(now: now)
        return [persist(now: now), .send(.paymentClose(answer))] + pay + actions
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
        snapshot.close = record
        closeRetryAt = nil
        let pay = requestPayout(now: now)
        return [persist(now: now)] + pay
    }

    private mutating func receiveUnilateral(_ c: PaymentClose, now: UInt64, acceptsUnilateral: (UInt64, UInt128) -> Bool,
                                            higher: (PaymentClose) -> PaymentUpdate?) throws(ChannelError) -> [ChannelAction] {
        let replacing = state == .closing && snapshot.close.map { !$0.completed && $0.message.cooperative } == true
        guard state.acceptsPayments || replacing else { throw .notActive(state, "unilateral close") }
        try verifyByPeer(c)
        let amount = c.finalAmount.atomicUnits
        guard amount <= terms.deposit else { throw .insufficientFunds("close final amount exceeds the deposit") }
        guard acceptsUnilateral(c.finalNonce, amount) else {
            throw .closeMismatch("final state (\(c.finalNonce), \(amount)) is above the latest voucher the payer signed")
        }
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
        closeRetryAt = nil
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
        // The payer keeps its own higher voucher as its latest: it is the signature the payout rests on.
        if snapshot.role == .payer, v.nonce > (snapshot.latestVoucher?.nonce ?? 0), v.amount.atomicUnits > snapshot.paidAmount {
            snapshot.latestVoucher = v
            snapshot.ackedNonce = v.nonce
        }
        return [persist(now: now), .notify(.disputed(channelID, nonce: v.nonce, cumulative: v.amount.atomicUnits))] + actions
    }

    // MARK: Time and settlement

    /// Requests the payout once a unilateral challenge period is over, or again after a failure;
    /// sends our unanswered cooperative proposal again when its retry time has come (§6.4).
    mutating func onTimerTick(now: UInt64) -> [ChannelAction] {
        guard state == .closing || state == .disputed, let record = snapshot.close, !record.payoutRequested else { return [] }
        if let deadline = record.challengeDeadline {
            guard now >= deadline else { return [] }
        } else if !record.completed {
            guard record.initiatedLocally, let at = closeRetryAt, now >= at else { return [] }
            return resendOwnClose() + [scheduleRetry(now: now)]
        }
        let pay = requestPayout(now: now)
        return pay.isEmpty ? [] : [persist(now: now)] + pay
    }

    /// Marks the payout requested and returns `.settle(.payout)`, unless the final amount is above
    /// every payer signature this side holds (defence in depth, §6.5): then nothing is paid and
    /// `settlementFailed` is reported.
    private mutating func requestPayout(now: UInt64) -> [ChannelAction] {
        guard var record = snapshot.close else { return [] }
        let ceiling = snapshot.payerSignedAmount
        guard record.finalAmount <= ceiling else {
            return [.notify(.settlementFailed(channelID, reason: "payout \(record.finalAmount) is above \(ceiling), the most the payer signed"))]
        }
        record.payoutRequested = true
        snapshot.close = record
        return [.settle(.payout(payout(nonce: record.finalNonce, amount: record.finalAmount, cooperative: record.completed)))]
    }

    /// After a restart from a persisted snapshot (§6.4): asks for a payout that was requested but not
    /// confirmed again (backends apply one payout per channel, so a repeat is confirmed without
    /// paying twice), requests one that is due, and schedules the challenge deadline and the retry
    /// of an unanswered cooperative proposal.
    mutating func resume(now: UInt64) -> [ChannelAction] {
        guard state == .closing || state == .disputed, let record = snapshot.close else { return [] }
        if record.payoutRequested {
            if record.finalAmount > snapshot.payerSignedAmount {
                return [.notify(.settlementFailed(channelID, reason: "stored payout is above what the payer signed"))]
            }
            return [.settle(.payout(payout(nonce: record.finalNonce, amount: record.finalAmount, cooperative: record.completed)))]
        }
        if let deadline = record.challengeDeadline {
            return now >= deadline ? onTimerTick(now: now) : [.scheduleTimer(deadline: deadline)]
        }
        if record.completed { return onTimerTick(now: now) }
        return record.initiatedLocally ? [scheduleRetry(now: now)] : []
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
