public import PaymeshMessages

extension PayerChannel {
    /// Handles a message from the payee for this channel. Never throws: a bad message is answered
    /// (when the protocol has an answer) and reported in a `.notify`.
    public mutating func receive(_ message: Message, now: UInt64) -> [ChannelAction] {
        switch message {
        case .paymentAck(let ack) where ack.channelID == channelID: return receiveAck(ack, now: now)
        case .paymentUpdate(let v) where v.channelID == channelID: return receiveEcho(v, now: now)
        case .paymentClose(let c) where c.channelID == channelID:
            let signed = self
            return core.receiveClose(c, now: now, acceptsFinal: { nonce, amount in signed.covers(nonce, amount) },
                                     acceptsUnilateral: { nonce, amount in signed.covers(nonce, amount) },
                                     higher: { _ in nil })
        case .error(let e):
            return [.notify(.peerMessageRejected(channelID, code: e.code, detail: ChannelCore.truncated(e.message)))]
        default:
            return [.notify(.peerMessageRejected(channelID, code: .unsupportedMessage,
                                                 detail: "\(message.type.name) is not handled by the payer"))]
        }
    }

    /// A final state we signed and the payee may hold: our latest, the acknowledged one, or one
    /// in flight (an echoed voucher at one of them acknowledges everything up to it).
    func isSignedState(_ nonce: UInt64, _ amount: UInt128) -> Bool {
        if nonce == (latestVoucher?.nonce ?? 0) && amount == paidAmount { return true }
        if nonce == ackedNonce && amount == ackedAmount { return true }
        return inFlight.amount(of: nonce) == amount
    }

    /// A payee's close is backed only by what we signed (§6.1, §6.2): its final state may not be
    /// above our latest signed voucher (nonce and amount); a lower one only costs the payee.
    func covers(_ nonce: UInt64, _ amount: UInt128) -> Bool {
        nonce <= (latestVoucher?.nonce ?? 0) && amount <= paidAmount
    }

    private mutating func receiveAck(_ ack: PaymentAck, now: UInt64) -> [ChannelAction] {
        if core.state == .proposed { return receiveOpenAck(ack, now: now) }
        guard core.state != .settled else { return [] } // a late or replayed ack changes nothing
        if ack.status == .rejected {
            let code = ack.errorCode ?? .internalError
            if core.state == .closing, ack.nonce == core.snapshot.close?.finalNonce, core.snapshot.close?.initiatedLocally == true {
                return [.notify(.closeRejected(channelID, code: code, reason: ack.reason))]
            }
            _ = inFlight.remove(nonce: ack.nonce)
            return [.notify(.paymentRejected(channelID, nonce: ack.nonce, code: code, reason: ack.reason))]
        }
        guard let latest = latestVoucher, ack.nonce <= latest.nonce, ack.nonce > ackedNonce else { return [] }
        let amount = ack.nonce == latest.nonce ? latest.amount.atomicUnits : inFlight.amount(of: ack.nonce)
        _ = inFlight.acknowledge(through: ack.nonce)
        guard let amount else { return [] } // a nonce we never had in flight (after a restart): ignore
        core.snapshot.ackedNonce = ack.nonce
        ackedAmount = amount
        return [.notify(.paymentAcknowledged(channelID, nonce: ack.nonce, cumulative: amount))]
    }

    private mutating func receiveOpenAck(_ ack: PaymentAck, now: UInt64) -> [ChannelAction] {
        guard ack.nonce == terms.open.nonce, core.snapshot.depositLocked else { return [] }
        var actions: [ChannelAction] = []
        if ack.status == .accepted {
            do { try core.move(.openAccepted, &actions) } catch { return [] }
            return [core.persist(now: now)] + actions
        }
        do { try core.move(.openRejected, &actions) } catch { return [] }
        let lock = DepositLock(channelID: channelID, payer: terms.payer, asset: terms.asset.id, amount: terms.deposit)
        return [core.persist(now: now), .settle(.releaseDeposit(lock))] + actions
            + [.notify(.openRejected(channelID, code: ack.errorCode ?? .internalError, reason: ack.reason))]
    }

    /// The payee sent back a voucher we signed: at re-establishment (its latest state) or as
    /// dispute evidence during a unilateral close.
    private mutating func receiveEcho(_ v: PaymentUpdate, now: UInt64) -> [ChannelAction] {
        do { try v.verify(expectedSigner: terms.payer, domain: terms.domain) } catch {
            return [.notify(.peerMessageRejected(channelID, code: .invalidSignature, detail: "echoed voucher is not ours"))]
        }
        let amount = v.amount.atomicUnits
        guard amount <= terms.deposit else { return [] }
        if core.state == .closing || core.state == .disputed {
            return core.presentHigher(v, now: now) ?? []
        }
        guard core.state.acceptsPayments else { return [] }
        let latestNonce = latestVoucher?.nonce ?? 0
        if v.nonce > latestNonce || (v.nonce == latestNonce && amount > paidAmount) {
            // We restored an older database than what we had sent: adopt our own newer voucher.
            core.snapshot.latestVoucher = v
            core.snapshot.ackedNonce = v.nonce
            var moved: [ChannelAction] = []
            do { try core.move(.voucher, &moved) } catch { preconditionFailure("OPEN and ACTIVE accept a voucher") }
            ackedAmount = amount
            inFlight.removeAll()
            return [core.persist(now: now), .notify(.stateRecovered(channelID, nonce: v.nonce, cumulative: amount))] + moved
        }
        // The payee holds v: everything up to it is acknowledged.
        guard v.nonce > ackedNonce, isSignedState(v.nonce, amount) else { return [] }
        _ = inFlight.acknowledge(through: v.nonce)
        core.snapshot.ackedNonce = v.nonce
        ackedAmount = amount
        return [.notify(.paymentAcknowledged(channelID, nonce: v.nonce, cumulative: amount))]
    }

    /// Settlement backend results for this channel.
    public mutating func onSettlement(_ event: SettlementEvent, now: UInt64, offChain: Bool) -> [ChannelAction] {
        switch event {
        case .submitted(_, let id, .lockDeposit), .confirmed(_, let id, .lockDeposit), .failed(_, let id, .lockDeposit, _):
            guard id == channelID, core.state == .proposed, !core.snapshot.depositLocked else { return [] }
            switch event {
            case .submitted(let sid, _, _): return [.notify(.settlementSubmitted(channelID, sid))]
            case .confirmed:
                core.snapshot.depositLocked = true
                return [core.persist(now: now), .send(.paymentOpen(terms.open))]
            case .failed(_, _, _, let reason):
                var actions: [ChannelAction] = []
                do { try core.move(.openRejected, &actions) } catch { return [] }
                return [core.persist(now: now)] + actions
                    + [.notify(.openRejected(channelID, code: .channelDepositInvalid, reason: ChannelCore.truncated(reason)))]
            }
        case .submitted(_, _, .releaseDeposit), .confirmed(_, _, .releaseDeposit):
            return []
        case .failed(_, let id, .releaseDeposit, let reason):
            return id == channelID ? [.notify(.settlementFailed(channelID, reason: reason))] : []
        case .submitted(_, let id, .payout), .confirmed(_, let id, .payout), .failed(_, let id, .payout, _):
            guard id == channelID else { return [] }
            return core.onPayoutEvent(event, now: now, offChain: offChain)
        }
    }

    /// After a restart from a persisted snapshot: continues a close in progress (§6.4). Call once,
    /// before `reestablish`.
    public mutating func resume(now: UInt64) -> [ChannelAction] { core.resume(now: now) }

    /// After a (re)connection: resend our latest state so that both sides converge (§8).
    /// PROPOSED with the deposit locked: the open again. OPEN/ACTIVE: the latest voucher (the payee
    /// acknowledges it idempotently, accepts it if new, or answers with its own newer copy).
    /// CLOSING or DISPUTED with our own close unanswered: our latest voucher, then that close again.
    public mutating func reestablish(now: UInt64) -> [ChannelAction] {
        switch core.state {
        case .proposed:
            return core.snapshot.depositLocked ? [.send(.paymentOpen(terms.open))] : []
        case .open, .active:
            inFlight.removeAll()
            guard let latest = latestVoucher else { return [.send(.paymentOpen(terms.open))] }
            if latest.nonce > ackedNonce { inFlight.append(nonce: latest.nonce, amount: latest.amount.atomicUnits) }
            return [.send(.paymentUpdate(latest))]
        case .closing, .disputed:
            return core.resendOwnClose()
        case .settled:
            return core.settledAnswer() ?? []
        }
    }
}
