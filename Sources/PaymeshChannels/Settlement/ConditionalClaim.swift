import PaymeshCrypto
public import PaymeshMessages

/// What a payee shows at close when its highest-nonce voucher is conditional (Specs/messages.md
/// §5.8): the voucher with every lock in full, the payer's signature over it, the EIP-712 domain and
/// message type it was signed under, and a preimage (or none) for each lock, in the voucher's order.
public struct ConditionalClaim: Sendable, Hashable {
    public var voucher: ConditionalVoucher
    public var signature: Signature65
    public var domain: SigningDomain
    /// `.htlcPropose` or `.paymentUpdate`: the message that carried the signature.
    public var type: MessageType
    public var preimages: [Hash32?]

    public init(voucher: ConditionalVoucher, signature: Signature65, domain: SigningDomain, type: MessageType, preimages: [Hash32?]) {
        self.voucher = voucher
        self.signature = signature
        self.domain = domain
        self.type = type
        self.preimages = preimages
    }
}

extension LedgerRules {
    /// The payee's amount of a payout that shows a conditional voucher, as registered at `now`
    /// (messages.md §5.8): the voucher must be the payout's channel and final nonce, signed by its
    /// payer, with one preimage slot per lock and its `amount` equal to the payout's `payeeAmount`
    /// (the most it can pay); it pays `amount` minus every lock whose preimage is missing, wrong, or
    /// registered at or after that lock's expiry. A refusal names what is wrong.
    public static func claimed(_ p: Payout, _ claim: ConditionalClaim, at now: UInt64) -> Result<UInt128, Refusal> {
        let v = claim.voucher
        guard v.channelID == p.channelID, v.nonce == p.finalNonce, v.amount.atomicUnits == p.payeeAmount else {
            return .failure(Refusal("conditional voucher is not the payout's final voucher"))
        }
        guard claim.preimages.count == v.locks.count else {
            return .failure(Refusal("conditional claim shows \(claim.preimages.count) preimage slots for \(v.locks.count) locks"))
        }
        do { try v.verify(claim.signature, payer: p.payer, domain: claim.domain, type: claim.type) } catch {
            return .failure(Refusal("conditional voucher is not signed by the payer"))
        }
        guard let amount = v.claimable(preimages: claim.preimages, at: now) else {
            return .failure(Refusal("conditional voucher locks more than its amount"))
        }
        return .success(amount)
    }

    /// Every amount the claim could have been paid when registered at some time ≤ `now` (a lock's
    /// preimage counts only before its expiry): a repeat that finds one of them on the books
    /// confirms again.
    static func claimableUntil(_ claim: ConditionalClaim, now: UInt64) -> Set<UInt128> {
        let times = [0] + claim.voucher.locks.map(\.expiry).filter { $0 <= now }
        return Set(times.compactMap { claim.voucher.claimable(preimages: claim.preimages, at: $0) })
    }

    /// Why a request is refused (the text of `Plan.refuse`).
    public struct Refusal: Error, Sendable, Hashable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
