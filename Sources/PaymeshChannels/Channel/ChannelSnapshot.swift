public import PaymeshMessages

/// Which end of a one-way channel this node is.
public enum ChannelRole: String, Sendable, Hashable { case payer, payee }

/// How a close stands.
public struct CloseRecord: Sendable, Hashable {
    /// The latest PAYMENT_CLOSE sent or received (counter-signed once a cooperative close completes).
    public var message: PaymentClose
    /// True when this node started the close.
    public var initiatedLocally: Bool
    /// Cooperative close holding both valid signatures.
    public var completed: Bool
    /// Unilateral close: when the challenge period ends (ms, this node's clock). Nil when cooperative.
    public var challengeDeadline: UInt64?
    /// The state that will be paid out: the close's final state, replaced by a higher voucher in a
    /// dispute.
    public var finalNonce: UInt64
    public var finalAmount: UInt128
    /// The settlement backend was asked to pay out and has not answered with a failure.
    public var payoutRequested: Bool
    /// The backend's id of the payout operation, once submitted.
    public var settlementID: SettlementID?

    /// Public so that a node can rebuild the record from its store.
    public init(message: PaymentClose, initiatedLocally: Bool, completed: Bool, challengeDeadline: UInt64?, finalNonce: UInt64,
                finalAmount: UInt128, payoutRequested: Bool, settlementID: SettlementID?) {
        self.message = message
        self.initiatedLocally = initiatedLocally
        self.completed = completed
        self.challengeDeadline = challengeDeadline
        self.finalNonce = finalNonce
        self.finalAmount = finalAmount
        self.payoutRequested = payoutRequested
        self.settlementID = settlementID
    }
}

/// Everything needed to resume a channel after a restart: the row the store upserts on every
/// `.persist` (Specs/channels.md §8). Only `latestVoucher` is needed to claim; history is the
/// store's append-only log.
public struct ChannelSnapshot: Sendable, Hashable {
    public var role: ChannelRole
    public var terms: ChannelTerms
    public var state: ChannelState
    /// Payer: the latest voucher it signed (persisted before sending). Payee: the latest voucher
    /// it accepted (persisted before acknowledging).
    public var latestVoucher: PaymentUpdate?
    /// Payer: the highest nonce acknowledged when this snapshot was taken (informational; re-learnt
    /// at re-establishment). Payee: equals latestVoucher's nonce.
    public var ackedNonce: UInt64
    /// Amount locked in pending HTLCs (multi-hop routing; 0 until then).
    public var lockedAmount: UInt128
    public var close: CloseRecord?
    /// Payee: head of the receipt chain (0 and 32 zero bytes before the first receipt).
    public var receiptSeq: UInt64
    public var receiptHead: [UInt8]
    /// Payer: the lock of the deposit was confirmed by the settlement backend.
    public var depositLocked: Bool
    public var updatedAt: UInt64

    /// Public so that a node can rebuild the snapshot from its store (`init(restoring:key:)`).
    public init(role: ChannelRole, terms: ChannelTerms, state: ChannelState, latestVoucher: PaymentUpdate?, ackedNonce: UInt64,
                lockedAmount: UInt128, close: CloseRecord?, receiptSeq: UInt64, receiptHead: [UInt8], depositLocked: Bool,
                updatedAt: UInt64) {
        self.role = role
        self.terms = terms
        self.state = state
        self.latestVoucher = latestVoucher
        self.ackedNonce = ackedNonce
        self.lockedAmount = lockedAmount
        self.close = close
        self.receiptSeq = receiptSeq
        self.receiptHead = receiptHead
        self.depositLocked = depositLocked
        self.updatedAt = updatedAt
    }

    public var channelID: ChannelID { terms.channelID }
    /// Cumulative amount of `latestVoucher` (0 without one).
    public var paidAmount: UInt128 { latestVoucher?.amount.atomicUnits ?? 0 }
    /// The highest cumulative amount this side holds a valid payer signature for: the latest voucher,
    /// or a PAYMENT_CLOSE the payer signed (its unilateral close, or either signature of a completed
    /// cooperative one). No payout may exceed it (Specs/channels.md §6.5). Verifies signatures: cold
    /// path only.
    public var payerSignedAmount: UInt128 {
        let domain = terms.domain, payer = terms.payer
        var best: UInt128 = 0
        if let v = latestVoucher, (try? v.verify(expectedSigner: payer, domain: domain)) != nil { best = v.amount.atomicUnits }
        if let c = close?.message, c.finalAmount.atomicUnits > best {
            let signer = try? c.recoverSigner(domain: domain)
            let counter = try? c.recoverCounterSigner(domain: domain)
            if signer == payer || (c.cooperative && counter.flatMap { $0 } == payer) {
                best = c.finalAmount.atomicUnits
            }
        }
        return best
    }

    /// deposit − paid − locked: what further vouchers may still add.
    public var available: UInt128 {
        let spent = paidAmount.addingReportingOverflow(lockedAmount)
        guard !spent.overflow, spent.partialValue <= terms.deposit else { return 0 }
        return terms.deposit - spent.partialValue
    }
}

extension ChannelSnapshot {
    /// A payer's channel whose open failed (the payee refused it, or its deposit lock failed): SETTLED
    /// without a close record or any voucher. It never carried money; its deposit was released.
    public var neverOpened: Bool {
        role == .payer && state == .settled && close == nil && latestVoucher == nil && ackedNonce == 0
    }
}
