public import PaymeshMessages
import PaymeshCrypto

/// One line a settlement writes to a node's books (the local, off-chain ledger): a credit or a debit
/// of one owner's wallet, tagged with the channel. PaymeshStore persists it as a `ledger_entries`
/// row; `MemoryLedger` keeps it in memory for machine-level tests.
public struct LedgerPosting: Sendable, Hashable {
    public enum Direction: Sendable, Hashable { case credit, debit }
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Off-chain funds credited by the operator (`fund`); not part of any channel.
        case funding
        /// The payer's wallet → the channel's escrow.
        case depositLock
        /// Escrow → the payer's wallet: the rest of the deposit at the payout, or all of it when
        /// the open was rejected (`releaseDeposit`).
        case refund
        /// Escrow → the payee's wallet (on the payer's books), or the payee's own credit (on its books).
        case payout
    }

    public var owner: EthereumAddress
    public var direction: Direction
    public var amount: UInt128
    public var reason: Reason

    public init(owner: EthereumAddress, direction: Direction, amount: UInt128, reason: Reason) {
        self.owner = owner
        self.direction = direction
        self.amount = amount
        self.reason = reason
    }
}

/// The settlement rules of the local ledger (Specs/channels.md §6.3), in one place: what a request
/// writes to a node's books given what they already hold for the channel. Pure: the node's ledger
/// (over its store) and `MemoryLedger` (in memory) both apply exactly these decisions; the books
/// only append the postings atomically and refuse an overdraft or a sum past 2^128 − 1.
///
/// - lockDeposit (payer): debit the payer `deposit`; refused when the channel already has a lock.
/// - releaseDeposit (payer, open rejected): credit the payer back what it locked; a repeat is
///   confirmed again; refused without a matching lock or after a payout.
/// - payout: one per channel. `payeeAmount ≤ deposit`, refund = deposit − payeeAmount (checked).
///   On the payer's books (which hold its lock of exactly `deposit`): credit the payee
///   `payeeAmount` and the payer the refund (a zero line is not written). On the payee's books:
///   one `payout` credit of `payeeAmount`, also for 0 (it marks the channel settled there).
///   A repeat with the same division is confirmed again without new postings; another one is refused.
///   With a conditional claim (`Payout.claim`, messages.md §5.8) the payee's amount is what the
///   claim pays when registered at `now` (`claimed`); a repeat is confirmed again when the books
///   hold what the claim paid at any earlier registration.
public enum LedgerRules {
    /// The id of the local ledger in PAYMENT_OPEN.settlement.
    public static let localLedgerID = "local-ledger"

    /// The operation's id on the local ledger: one per channel and kind, so a repeat carries it again.
    public static func settlementID(_ request: SettlementRequest) -> SettlementID {
        "local-\(request.kind.rawValue)-\(request.channelID.bytes.prefix(6).hexString)"
    }

    public enum Plan: Sendable, Hashable {
        /// Append these postings (all or none), then confirm.
        case post([LedgerPosting])
        /// Already applied exactly so: confirm again, write nothing.
        case alreadyApplied
        /// Refused: nothing is written, the request fails with this reason.
        case refuse(String)
    }

    /// deposit − payeeAmount, nil when the payee amount exceeds the deposit.
    public static func refund(deposit: UInt128, payeeAmount: UInt128) -> UInt128? {
        let (rest, overflow) = deposit.subtractingReportingOverflow(payeeAmount)
        return overflow ? nil : rest
    }

    /// What `request` writes to the books of the `side` of the channel that asks, given the
    /// postings those books already hold for the channel (in order), registered at `now` (unix ms).
    public static func plan(_ request: SettlementRequest, side: ChannelRole, prior: [LedgerPosting], at now: UInt64) -> Plan {
        let locks = prior.filter { $0.reason == .depositLock }
        let payouts = prior.filter { $0.reason == .payout }
        let refunds = prior.filter { $0.reason == .refund }
        switch request {
        case .lockDeposit(let lock):
            guard lock.amount > 0 else { return .refuse("deposit must be positive") }
            guard locks.isEmpty, payouts.isEmpty, refunds.isEmpty else { return .refuse("channel already has a deposit") }
            return .post([LedgerPosting(owner: lock.payer, direction: .debit, amount: lock.amount, reason: .depositLock)])

        case .releaseDeposit(let lock):
            guard locks.count == 1, locks[0].owner == lock.payer, locks[0].amount == lock.amount else {
                return .refuse("no such deposit")
            }
            guard payouts.isEmpty else { return .refuse("channel already paid out") }
            if refunds.isEmpty {
                return .post([LedgerPosting(owner: lock.payer, direction: .credit, amount: lock.amount, reason: .refund)])
            }
            return refunds.count == 1 && refunds[0].amount == lock.amount ? .alreadyApplied : .refuse("deposit already released")

        case .payout(var p):
            guard refund(deposit: p.deposit, payeeAmount: p.payeeAmount) != nil else {
                return .refuse("payout exceeds the deposit")
            }
            // What an earlier registration may have paid (one amount without a claim).
            var earlier: Set<UInt128> = [p.payeeAmount]
            if let claim = p.claim {
                switch claimed(p, claim, at: now) {
                case .failure(let r): return .refuse(r.reason)
                case .success(let amount): p.payeeAmount = amount
                }
                earlier = claimableUntil(claim, now: now)
            }
            // payeeAmount only went down: the refund exists.
            let refund = refund(deposit: p.deposit, payeeAmount: p.payeeAmount)!
            switch side {
            case .payee:
                if !payouts.isEmpty {
                    // The payee's books hold only its payout; the refund is the rest of the deposit term.
                    guard let paid = sum(payouts), paid <= p.deposit else { return .refuse("channel already settled with another final state") }
                    return earlier.contains(paid) ? .alreadyApplied : .refuse("channel already settled with another final state")
                }
                // One posting even for zero: it marks the channel settled on these books.
                return .post([LedgerPosting(owner: p.payee, direction: .credit, amount: p.payeeAmount, reason: .payout)])
            case .payer:
                guard locks.count == 1, locks[0].owner == p.payer, locks[0].amount == p.deposit else {
                    return .refuse("payout does not match the locked deposit")
                }
                if !payouts.isEmpty || !refunds.isEmpty {
                    guard let paid = sum(payouts), let refunded = sum(refunds), earlier.contains(paid), refunded == p.deposit - paid,
                          paid == 0 || payouts.allSatisfy({ $0.owner == p.payee }) else {
                        return .refuse("channel already settled with another final state")
                    }
                    return .alreadyApplied
                }
                var postings: [LedgerPosting] = []
                if p.payeeAmount > 0 { postings.append(LedgerPosting(owner: p.payee, direction: .credit, amount: p.payeeAmount, reason: .payout)) }
                if refund > 0 { postings.append(LedgerPosting(owner: p.payer, direction: .credit, amount: refund, reason: .refund)) }
                return .post(postings)
            }
        }
    }

    /// The checked sum of the postings' amounts (nil past 2^128 − 1).
    static func sum(_ postings: [LedgerPosting]) -> UInt128? {
        var total: UInt128 = 0
        for p in postings {
            let (s, overflow) = total.addingReportingOverflow(p.amount)
            if overflow { return nil }
            total = s
        }
        return total
    }
}
