public import PaymeshCrypto
public import PaymeshMessages

/// The payer's end of a one-way channel (Specs/channels.md §3–§5, §8). A value type with no I/O:
/// every call returns the actions the node performs, in order. Rules:
/// - a voucher is in a `.persist` before its `.send`: after a crash the payer resumes from its
///   persisted latest voucher and never signs a second amount for a nonce it may have sent;
/// - spending policy and balance are checked before anything is signed.
public struct PayerChannel: Sendable {
    var core: ChannelCore
    var inFlight = InFlightVouchers()
    /// Cumulative amount of the highest acknowledged voucher.
    public internal(set) var ackedAmount: UInt128 = 0

    public var snapshot: ChannelSnapshot { core.snapshot }
    public var state: ChannelState { core.state }
    public var channelID: ChannelID { core.channelID }
    public var terms: ChannelTerms { core.terms }
    public var ackedNonce: UInt64 { core.snapshot.ackedNonce }
    /// Cumulative amount of the latest signed voucher.
    public var paidAmount: UInt128 { core.snapshot.paidAmount }
    public var lockedAmount: UInt128 { core.snapshot.lockedAmount }
    /// deposit − paid − locked.
    public var available: UInt128 { core.snapshot.available }
    public var latestVoucher: PaymentUpdate? { core.snapshot.latestVoucher }
    /// Vouchers sent and not yet acknowledged.
    public var unacknowledgedCount: Int { inFlight.count }

    /// Proposes a channel: signs PAYMENT_OPEN and asks the backend to lock the deposit. The open is
    /// sent once the lock is confirmed (`onSettlement`). Actions: `.persist(PROPOSED)`, `.settle(.lockDeposit)`.
    public static func open(key: IdentityKey, payee: EthereumAddress, asset: Asset, deposit: UInt128,
                            challengePeriodSeconds: UInt64 = 3_600, settlement: String = LedgerRules.localLedgerID,
                            chainID: UInt64 = 0, verifyingContract: EthereumAddress = .zero, openNonce: UInt64 = 0,
                            salt: [UInt8], now: UInt64) throws(ChannelError) -> (PayerChannel, [ChannelAction]) {
        guard deposit > 0 else { throw .depositInvalid("deposit must be positive") }
        let payer = key.address
        guard payer != payee else { throw .depositInvalid("payer and payee are the same address") }
        let id = try ChannelTerms.deriveChannelID(payer: payer, payee: payee, openNonce: openNonce, salt: salt)
        let open: PaymentOpen
        do {
            open = try PaymentOpen(channelID: id, sender: payer, receiver: payee, asset: asset, totalDeposit: Amount(deposit),
                                   challengePeriodSeconds: challengePeriodSeconds, settlement: settlement, chainID: chainID,
                                   verifyingContract: verifyingContract, nonce: openNonce, timestamp: now,
                                   signature: .unsigned).signed(with: key)
        } catch { throw .message(error) }
        let snapshot = ChannelSnapshot(role: .payer, terms: ChannelTerms(open: open), state: .proposed, latestVoucher: nil,
                                       ackedNonce: 0, lockedAmount: 0, close: nil, receiptSeq: 0,
                                       receiptHead: Receipt.zeroHash, depositLocked: false, updatedAt: now)
        let channel = PayerChannel(core: ChannelCore(snapshot: snapshot, key: key))
        let lock = DepositLock(channelID: id, payer: payer, asset: asset.id, amount: deposit)
        return (channel, [.persist(snapshot), .settle(.lockDeposit(lock))])
    }

    /// Resumes from the last persisted snapshot. Follow with `reestablish(now:)` once connected.
    public init(restoring snapshot: ChannelSnapshot, key: IdentityKey) throws(ChannelError) {
        guard snapshot.role == .payer else { throw .internalError("snapshot is not a payer's") }
        guard snapshot.terms.payer == key.address else { throw .internalError("key is not the channel's payer") }
        core = ChannelCore(snapshot: snapshot, key: key)
        ackedAmount = snapshot.ackedNonce == snapshot.latestVoucher?.nonce ? snapshot.paidAmount : 0
    }

    init(core: ChannelCore) { self.core = core }

    // MARK: Paying (hot path)

    /// Pays `amount` more: checks state, amount, balance and `policy`, then signs the next
    /// cumulative voucher. Actions: `.persist(snapshot with the voucher)`, `.send(PAYMENT_UPDATE)`.
    /// On any error nothing is signed and nothing changes.
    /// The vouchers the next `count` calls of `pay(amount:taskID:now:policy:)` would sign, unsigned,
    /// as far as the channel's balance and nonces allow (the spending policy is checked by `pay`):
    /// a driver may sign them off the machine, in parallel, and hand each to `pay` as `presigned`.
    public func upcomingVouchers(amount: UInt128, count: Int, taskID: String? = nil, now: UInt64) -> [PaymentUpdate] {
        guard core.state.acceptsPayments, amount > 0, count > 0 else { return [] }
        var out: [PaymentUpdate] = []
        var nonce = core.snapshot.latestVoucher?.nonce ?? 0
        var cumulative = paidAmount
        var left = available
        for _ in 0..<count {
            guard amount <= left, nonce < MessageLimits.maxVoucherNonce,
                  let v = try? PaymentUpdate(channelID: core.channelID, nonce: nonce + 1, amount: Amount(cumulative + amount),
                                             timestamp: now, taskID: taskID, signature: .unsigned) else { break }
            out.append(v)
            nonce += 1
            cumulative += amount
            left -= amount
        }
        return out
    }

    /// `presigned`: the driver's signature of exactly the voucher this call signs (one of
    /// `upcomingVouchers`, signed with this channel's key in its domain), used instead of signing
    /// here when every field but the signature is equal; not verified (it is this node's own work).
    public mutating func pay(amount: UInt128, taskID: String? = nil, now: UInt64,
                             policy: inout SpendingGuard, presigned: PaymentUpdate? = nil) throws(ChannelError) -> [ChannelAction] {
        guard core.state.acceptsPayments else { throw .notActive(core.state, "payment") }
        guard amount > 0 else { throw .invalidAmount("payment amount must be positive") }
        guard amount <= available else {
            throw .insufficientFunds("payment \(Amount(amount).formatted(terms.asset)) exceeds the available balance \(Amount(available).formatted(terms.asset))")
        }
        let previous = core.snapshot.latestVoucher
        let nonce = (previous?.nonce ?? 0).addingReportingOverflow(1)
        guard !nonce.overflow, nonce.partialValue <= MessageLimits.maxVoucherNonce else {
            throw .nonceTooOld("voucher nonces are exhausted (at most \(MessageLimits.maxVoucherNonce)); close the channel")
        }
        try policy.check(peer: core.terms.payee, amount: amount, now: now)
        let cumulative = paidAmount + amount // ≤ deposit − locked: no overflow
        let voucher: PaymentUpdate
        do {
            let unsigned = try PaymentUpdate(channelID: core.channelID, nonce: nonce.partialValue, amount: Amount(cumulative),
                                             timestamp: now, taskID: taskID, signature: .unsigned)
            if var given = presigned, given.signature != .unsigned {
                let signature = given.signature
                given.signature = .unsigned
                voucher = given == unsigned ? PaymentUpdate(unsigned, signature: signature) : try unsigned.signed(with: core.key, domain: core.terms.domain)
            } else {
                voucher = try unsigned.signed(with: core.key, domain: core.terms.domain)
            }
        } catch { throw .message(error) }
        policy.record(peer: core.terms.payee, amount: amount, now: now)
        core.snapshot.latestVoucher = voucher
        core.snapshot.updatedAt = now
        // The first voucher moves OPEN → ACTIVE through the lifecycle table (its notification
        // follows the durable write and the send, like the payee's).
        var moved: [ChannelAction] = []
        if core.snapshot.state == .open {
            do { try core.move(.voucher, &moved) } catch { preconditionFailure("OPEN accepts a voucher") }
        }
        inFlight.append(nonce: voucher.nonce, amount: cumulative)
        return [.persist(core.snapshot), .send(.paymentUpdate(voucher))] + moved
    }

    /// Sets the amount locked in pending HTLCs (routing layer). Throws 1100 if it would exceed
    /// what is not already paid.
    public mutating func setLockedAmount(_ locked: UInt128, now: UInt64) throws(ChannelError) -> [ChannelAction] {
        guard locked <= terms.deposit - paidAmount else { throw .insufficientFunds("locked amount exceeds the balance") }
        core.snapshot.lockedAmount = locked
        return [core.persist(now: now)]
    }

    // MARK: Closing

    /// Proposes a cooperative close at the latest signed voucher.
    public mutating func closeCooperatively(now: UInt64) throws(ChannelError) -> [ChannelAction] {
        try core.startClose(cooperative: true, finalNonce: latestVoucher?.nonce ?? 0, finalAmount: paidAmount, now: now)
    }

    /// Closes without the payee: starts the challenge period at the latest signed voucher.
    public mutating func closeUnilaterally(now: UInt64) throws(ChannelError) -> [ChannelAction] {
        try core.startClose(cooperative: false, finalNonce: latestVoucher?.nonce ?? 0, finalAmount: paidAmount, now: now)
    }

    public mutating func onTimerTick(now: UInt64) -> [ChannelAction] { core.onTimerTick(now: now) }
}

extension PaymentUpdate {
    /// `unsigned` with `signature`.
    init(_ unsigned: PaymentUpdate, signature: Signature65) {
        self = unsigned
        self.signature = signature
    }
}
