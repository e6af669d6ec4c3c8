public import PaymeshCrypto
public import PaymeshMessages

/// The payee's end of a one-way channel (Specs/channels.md §3–§5, §8, §10). A value type with no
/// I/O. Rules: a voucher is in a `.persist` before the `.send` of its acknowledgement; a repeated
/// voucher is acknowledged again without paying twice.
public struct PayeeChannel: Sendable {
    var core: ChannelCore
    var receipts: ReceiptChain

    public var snapshot: ChannelSnapshot { core.snapshot }
    public var state: ChannelState { core.state }
    public var channelID: ChannelID { core.channelID }
    public var terms: ChannelTerms { core.terms }
    /// The latest accepted voucher: what the payee can claim.
    public var latestVoucher: PaymentUpdate? { core.snapshot.latestVoucher }
    public var receivedAmount: UInt128 { core.snapshot.paidAmount }
    public var available: UInt128 { core.snapshot.available }

    public enum OpenResult: Sendable {
        /// Actions: `.persist(OPEN)`, `.send(PAYMENT_ACK accepted)`, `.notify`.
        case accepted(PayeeChannel, [ChannelAction])
        /// Actions: `.send(PAYMENT_ACK rejected)`, `.notify`. No channel exists.
        case rejected(ChannelError, [ChannelAction])
    }

    /// Verifies a PAYMENT_OPEN (signature, addressee, terms) and accepts or rejects it.
    /// `authenticatedPeer` is the Noise-authenticated identity of the sender, `backing` what the
    /// settlement backend holds for the channel when the node can tell (nil: not checked).
    public static func accept(_ open: PaymentOpen, key: IdentityKey, policy: PayeeOpenPolicy, authenticatedPeer: EthereumAddress?,
                              backing: UInt128? = nil, capacity: OpenCapacity? = nil, now: UInt64) -> OpenResult {
        let terms = ChannelTerms(open: open)
        var snapshot = ChannelSnapshot(role: .payee, terms: terms, state: .proposed, latestVoucher: nil, ackedNonce: 0,
                                       lockedAmount: 0, close: nil, receiptSeq: 0, receiptHead: Receipt.zeroHash,
                                       depositLocked: backing != nil, updatedAt: now)
        var core = ChannelCore(snapshot: snapshot, key: key)
        do {
            try policy.check(open, payee: key.address, authenticatedPeer: authenticatedPeer, backing: backing,
                             capacity: capacity, now: now)
        } catch {
            return .rejected(error, core.reject(nonce: open.nonce, error))
        }
        var actions: [ChannelAction] = []
        do { try core.move(.openAccepted, &actions) } catch { preconditionFailure("PROPOSED accepts openAccepted") }
        snapshot = core.snapshot
        return .accepted(PayeeChannel(core: core, receipts: ReceiptChain()),
                         [.persist(snapshot), core.accepted(nonce: open.nonce)] + actions)
    }

    /// Resumes from the last persisted snapshot. Follow with `reestablish(now:)` once connected.
    public init(restoring snapshot: ChannelSnapshot, key: IdentityKey) throws(ChannelError) {
        guard snapshot.role == .payee else { throw .internalError("snapshot is not a payee's") }
        guard snapshot.terms.payee == key.address else { throw .internalError("key is not the channel's payee") }
        guard snapshot.receiptHead.count == 32 else { throw .internalError("receipt head must be 32 bytes") }
        core = ChannelCore(snapshot: snapshot, key: key)
        receipts = ReceiptChain(seq: snapshot.receiptSeq, head: snapshot.receiptHead)
    }

    init(core: ChannelCore, receipts: ReceiptChain) {
        self.core = core
        self.receipts = receipts
    }

    /// Handles a message from the payer for this channel. Never throws.
    ///
    /// `signature` is the driver's verdict on a PAYMENT_UPDATE's signature when it already checked
    /// it off this machine (in parallel with earlier messages): it must then be the result of
    /// `verify(expectedSigner: terms.payer, domain: terms.domain)` on this exact voucher. nil: the
    /// machine verifies it itself. Every other rule of §4.2 is checked here either way.
    public mutating func receive(_ message: Message, now: UInt64, signature: SignatureVerdict? = nil) -> [ChannelAction] {
        switch message {
        case .paymentUpdate(let v) where v.channelID == channelID: return receiveVoucher(v, now: now, signature: signature)
        case .paymentOpen(let o) where o.channelID == channelID:
            if o == terms.open { return [core.accepted(nonce: o.nonce)] } // re-establishment: idempotent
            return core.reject(nonce: o.nonce, .alreadyExists("a different open already uses this channel id"))
        case .paymentClose(let c) where c.channelID == channelID:
            let held = latestVoucher
            return core.receiveClose(c, now: now, acceptsFinal: { nonce, amount in
                nonce == (held?.nonce ?? 0) && amount == (held?.amount.atomicUnits ?? 0)
            }, acceptsUnilateral: { _, _ in true }, higher: { close in
                // Vouchers are cumulative: a held payer signature for more than the close's final
                // amount wins, whatever nonce the payer put in its close (§6.2).
                guard let held, held.amount > close.finalAmount else { return nil }
                return held
            })
        case .paymentAck(let ack) where ack.channelID == channelID && ack.status == .rejected:
            return [.notify(.closeRejected(channelID, code: ack.errorCode ?? .internalError, reason: ack.reason))]
        case .error(let e):
            return [.notify(.peerMessageRejected(channelID, code: e.code, detail: ChannelCore.truncated(e.message)))]
        default:
            return [.notify(.peerMessageRejected(channelID, code: .unsupportedMessage,
                                                 detail: "\(message.type.name) is not handled by the payee"))]
        }
    }

    /// Several vouchers of this channel received together, in order (Specs/channels.md §4.2.1).
    /// `lastVerdict` is the driver's verdict on the last one's signature, as for `receive` (nil: the
    /// machine verifies it). When the last of `vouchers` is the last that passes every rule of §4.2
    /// but the signature, and its signature is the payer's, it covers the earlier ones that pass:
    /// vouchers are cumulative, so the payer's signature on it is its claim to their amounts too,
    /// and their own signatures are not checked. Otherwise each voucher is verified on its own,
    /// exactly as by `receive`. Returns each voucher's actions, in order: those of `receive` called
    /// for each in turn, with a valid signature wherever one is covered.
    public mutating func receiveVouchers(_ vouchers: [PaymentUpdate], now: UInt64, lastVerdict: SignatureVerdict?) -> [[ChannelAction]] {
        guard let last = vouchers.indices.last else { return [] }
        var lastVerdict = lastVerdict
        var covered = false
        if last > 0 {
            // Every rule but the signature, from the current state: which vouchers would be accepted.
            var held = core.snapshot.latestVoucher
            var lastAccepted: Int?
            for (i, v) in vouchers.enumerated() {
                if let h = held, v.nonce == h.nonce, v == h { continue }
                guard v.channelID == channelID, (try? checkVoucher(v, held: held, signature: .valid)) != nil else { continue }
                held = v
                lastAccepted = i
            }
            if lastAccepted == last {
                let verdict = lastVerdict ?? SignatureVerdict(vouchers[last], terms)
                lastVerdict = verdict
                covered = verdict == .valid
            }
        }
        var out: [[ChannelAction]] = []
        out.reserveCapacity(vouchers.count)
        for (i, v) in vouchers.enumerated() {
            out.append(receive(.paymentUpdate(v), now: now, signature: i == last ? lastVerdict : covered ? .valid : nil))
        }
        return out
    }

    /// The receiver rules of §4.2, in order. Accept: `.persist`, `.send(ack accepted)`, `.notify`.
    mutating func receiveVoucher(_ v: PaymentUpdate, now: UInt64, signature: SignatureVerdict? = nil) -> [ChannelAction] {
        let held = core.snapshot.latestVoucher
        if let held, v.nonce == held.nonce, v == held {
            return [core.accepted(nonce: v.nonce)] // a retry or re-establishment: acknowledge again, pay nothing
        }
        do {
            try checkVoucher(v, held: held, signature: signature)
        } catch {
            var actions = core.reject(nonce: v.nonce, error)
            // A payer behind us (it restored an old database): show it our latest so it converges.
            if let held, error.code == .nonceTooOld || error.code == .duplicateNonce {
                actions.insert(.send(.paymentUpdate(held)), at: 1)
            }
            return actions
        }
        let previous = held?.amount.atomicUnits ?? 0
        core.snapshot.latestVoucher = v
        core.snapshot.ackedNonce = v.nonce
        core.snapshot.updatedAt = now
        let notify = ChannelAction.notify(.paymentReceived(channelID, nonce: v.nonce, increment: v.amount.atomicUnits - previous,
                                                           cumulative: v.amount.atomicUnits, taskID: v.taskID))
        if core.snapshot.state == .open {
            var actions: [ChannelAction] = []
            do { try core.move(.voucher, &actions) } catch { preconditionFailure("OPEN accepts a voucher") }
            return [.persist(core.snapshot), core.accepted(nonce: v.nonce), notify] + actions
        }
        return [.persist(core.snapshot), core.accepted(nonce: v.nonce), notify]
    }

    private func checkVoucher(_ v: PaymentUpdate, held: PaymentUpdate?, signature: SignatureVerdict?) throws(ChannelError) {
        guard core.state.acceptsPayments else { throw .notActive(core.state, "voucher") }
        // The store keeps nonces as signed 64-bit integers: refuse what it could not keep (1501).
        guard v.nonce <= MessageLimits.maxVoucherNonce else {
            throw .message(MessageError(code: .malformedMessage, detail: "nonce \(v.nonce) exceeds 2^63 - 1", refType: 2))
        }
        if let held {
            if v.nonce == held.nonce { throw .duplicateNonce("nonce \(v.nonce) was already used for another voucher") }
            guard v.nonce > held.nonce else { throw .nonceTooOld("nonce \(v.nonce) is not above \(held.nonce)") }
            guard v.amount > held.amount else { throw .invalidAmount("cumulative amount does not increase") }
        }
        let limit = core.snapshot.available + core.snapshot.paidAmount // deposit − locked, whatever `held` is
        guard v.amount.atomicUnits <= limit else { throw .insufficientFunds("amount exceeds deposit minus locked") }
        guard v.amount.atomicUnits > 0 else { throw .invalidAmount("cumulative amount must be positive") }
        switch signature {
        case nil: if case .invalid(let detail) = SignatureVerdict(v, terms) { throw .invalidSignature(detail) }
        case .valid?: break
        case .invalid(let detail)?: throw .invalidSignature(detail)
        }
    }

    /// Sets the amount locked in pending HTLCs (routing layer).
    public mutating func setLockedAmount(_ locked: UInt128, now: UInt64) throws(ChannelError) -> [ChannelAction] {
        guard locked <= terms.deposit - receivedAmount else { throw .insufficientFunds("locked amount exceeds the balance") }
        core.snapshot.lockedAmount = locked
        return [core.persist(now: now)]
    }
}

/// Whether a voucher's signature is the payer's in the channel's domain (Specs/channels.md §4.2
/// rule 6), computed where the driver can afford it: before the channel machine's turn.
public enum SignatureVerdict: Sendable, Hashable {
    case valid
    case invalid(String)

    /// Verifies `voucher` against `terms` (the payer's address and the signing domain).
    public init(_ voucher: PaymentUpdate, _ terms: ChannelTerms) {
        do {
            try voucher.verify(expectedSigner: terms.payer, domain: terms.domain)
            self = .valid
        } catch {
            self = .invalid(error.detail)
        }
    }
}
