import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// The HTLCs of one channel and the conditional vouchers that hold them (Specs/messages.md §5.7,
/// Specs/channels.md §12), for either side, sans-IO. The payer signs, the payee verifies; both keep
/// the channel's voucher nonce and the part paid unconditionally (`settled`).
public struct HTLCChannel: Sendable, Hashable {
    public let terms: ChannelTerms
    /// `.payer`: this node offers HTLCs on the channel; `.payee`: it receives them.
    public let role: ChannelRole
    /// The channel's latest voucher nonce (plain and conditional vouchers share the sequence).
    public internal(set) var nonce: UInt64
    /// Paid whatever happens to the HTLCs: the latest voucher's amount minus its locks.
    public internal(set) var settled: UInt128
    /// Every HTLC the latest voucher holds, in the order it signs them (proposal order), plus on
    /// the payee side HTLCs resolved and not yet left out by the payer's next voucher.
    public internal(set) var htlcs: [HTLCEntry]
    /// Payee: the latest conditional voucher and its signature (what a claim shows, §5.8).
    public internal(set) var latestVoucher: ConditionalVoucher?
    public internal(set) var latestSignature: Signature65?
    /// Payer: the latest voucher it signed as a PAYMENT_UPDATE (after a fulfil or cancel), resent when
    /// the payee repeats a fulfil or cancel it already answered; nil after an HTLC_PROPOSE.
    public internal(set) var lastUpdate: PaymentUpdate?
    /// Ids this channel ever held (an id is never reused, else 1103); durable (`htlc_used_ids`,
    /// Specs/storage.md) and at most `HTLCPolicy.maxHTLCsPerChannel` for the channel's life.
    var usedIDs: Set<HTLCID> = []

    public var channelID: ChannelID { terms.channelID }
    public var peer: EthereumAddress { role == .payer ? terms.payee : terms.payer }
    public var pending: [HTLCEntry] { htlcs.filter { $0.state == .pending } }
    /// Value in pending HTLCs (it reduces the available balance on both sides).
    public var locked: UInt128 { pending.reduce(0) { $0 + $1.amount } }
    /// What the latest voucher keeps locked (pending and resolved-but-not-yet-dropped).
    var heldAmount: UInt128 { htlcs.reduce(0) { $0 + $1.amount } }

    public init(terms: ChannelTerms, role: ChannelRole, nonce: UInt64, settled: UInt128) {
        self.terms = terms
        self.role = role
        self.nonce = nonce
        self.settled = settled
        self.htlcs = []
    }

    func index(_ id: HTLCID) -> Int? { htlcs.firstIndex { $0.htlcID == id } }

    // MARK: Payer

    /// Signs HTLC_PROPOSE for a new HTLC (the caller checked limits): the conditional voucher holds
    /// every HTLC still held and this one last.
    mutating func propose(_ entry: HTLCEntry, onion: [UInt8], key: IdentityKey, now: UInt64) throws(NodeError) -> HTLCPropose {
        precondition(role == .payer && entry.side == .offered)
        let next = try nextNonce()
        let total = settled + heldAmount + entry.amount
        let held = htlcs
        let message: HTLCPropose
        do {
            var p = try HTLCPropose(channelID: channelID, htlcID: entry.htlcID, paymentHash: entry.paymentHash,
                                    amount: Amount(entry.amount), expiry: entry.expiry, onion: onion, nonce: next,
                                    voucherAmount: Amount(total), locks: held.map(\.htlcID), timestamp: now,
                                    signature: .unsigned)
            p.signature = try p.conditionalVoucher(otherLocks: held.map(\.lock)).sign(with: key, domain: terms.domain, type: .htlcPropose)
            message = p
        } catch { throw .paymesh(error.code, "HTLC_PROPOSE: \(error)") }
        nonce = next
        htlcs.append(entry)
        usedIDs.insert(entry.htlcID)
        lastUpdate = nil
        return message
    }

    /// After a fulfil or cancel: drops every resolved HTLC and signs the voucher that says so — a
    /// plain `Voucher` when nothing stays locked, else a conditional PAYMENT_UPDATE holding the rest.
    mutating func reissue(key: IdentityKey, now: UInt64) throws(NodeError) -> PaymentUpdate {
        precondition(role == .payer)
        for e in htlcs where e.state == .fulfilled { settled += e.amount }
        htlcs.removeAll { $0.state != .pending }
        let next = try nextNonce()
        let total = settled + heldAmount
        do {
            if htlcs.isEmpty {
                let v = try PaymentUpdate(channelID: channelID, nonce: next, amount: Amount(total), timestamp: now,
                                          signature: .unsigned).signed(with: key, domain: terms.domain)
                nonce = next
                lastUpdate = v
                return v
            }
            let voucher = ConditionalVoucher(channelID: channelID, nonce: next, amount: Amount(total), timestamp: now,
                                             locks: htlcs.map(\.lock))
            let v = try PaymentUpdate(channelID: channelID, nonce: next, amount: Amount(total), timestamp: now,
                                      locks: htlcs.map(\.htlcID),
                                      signature: voucher.sign(with: key, domain: terms.domain, type: .paymentUpdate))
            nonce = next
            lastUpdate = v
            return v
        } catch { throw .paymesh(error.code, "voucher: \(error)") }
    }

    private func nextNonce() throws(NodeError) -> UInt64 {
        guard nonce < MessageLimits.maxVoucherNonce else {
            throw .paymesh(.nonceTooOld, "voucher nonces are exhausted; close the channel")
        }
        return nonce + 1
    }

    // MARK: Payee

    /// Checks a conditional voucher of the payer that holds `ids` (and `new`, last) with cumulative
    /// `amount` at `nonce`: every id known, the unconditional part covering what was settled plus
    /// every fulfilled HTLC and every unexpired pending one left out (§12.2 step 6e), the deposit
    /// not exceeded, the payer's signature. Returns the voucher that was signed.
    func checkVoucher(nonce n: UInt64, amount: UInt128, ids: [HTLCID], new: HTLCEntry?, timestamp: UInt64,
                      signature: Signature65, type: MessageType, now: UInt64) throws(NodeError) -> ConditionalVoucher? {
        precondition(role == .payee)
        guard n > nonce else { throw .paymesh(.nonceTooOld, "voucher nonce \(n) is not above \(nonce)") }
        guard amount <= terms.deposit else {
            throw .paymesh(.insufficientFunds, "voucher amount \(amount) exceeds the deposit \(terms.deposit)")
        }
        var locks: [HTLCLock] = []
        var lockedSum: UInt128 = 0
        for id in ids {
            guard let i = index(id) else { throw .paymesh(.invalidAmount, "voucher holds unknown HTLC \(id)") }
            locks.append(htlcs[i].lock)
            lockedSum += htlcs[i].amount
        }
        var owed = settled
        for e in htlcs where !ids.contains(e.htlcID) {
            switch e.state {
            // Left out before its expiry, a pending HTLC must be paid like a fulfilled one: the payer
            // learnt its preimage from a fulfil this node sent ahead of recording it (§12.4) and
            // this node restarted before that write.
            case .pending where now < e.expiry, .fulfilled: owed += e.amount
            case .pending, .cancelled: break // expired or given up: the payer may drop it
            }
        }
        if let new {
            locks.append(new.lock)
            lockedSum += new.amount
        }
        guard lockedSum <= amount, amount - lockedSum >= owed else {
            throw .paymesh(.invalidAmount, "voucher pays \(amount) with \(lockedSum) locked, owes \(owed) unconditionally")
        }
        if locks.isEmpty { return nil }
        let voucher = ConditionalVoucher(channelID: channelID, nonce: n, amount: Amount(amount), timestamp: timestamp, locks: locks)
        do { try voucher.verify(signature, payer: terms.payer, domain: terms.domain, type: type) } catch {
            throw .paymesh(.invalidSignature, "\(error)")
        }
        return voucher
    }

    /// Adopts a checked voucher: the HTLCs it leaves out are gone (fulfilled ones now paid).
    mutating func adopt(nonce n: UInt64, amount: UInt128, voucher: ConditionalVoucher?, signature: Signature65?) {
        let held = Set(voucher?.locks.map(\.htlcID) ?? [])
        htlcs.removeAll { !held.contains($0.htlcID) }
        nonce = n
        settled = amount - heldAmount
        latestVoucher = voucher
        latestSignature = voucher == nil ? nil : signature
    }
}
