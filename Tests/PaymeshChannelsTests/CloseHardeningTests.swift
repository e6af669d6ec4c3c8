import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

/// Issue 7 item 1: what each side accepts on the other side's word alone when a channel closes.
@Suite("Closes backed by the payer's signature")
struct CloseHardeningTests {
    /// A close signed by `key` at (nonce, amount).
    static func close(_ terms: ChannelTerms, nonce: UInt64, amount: UInt128, cooperative: Bool, key: IdentityKey,
                      at: UInt64 = K.t0) throws -> PaymentClose {
        try PaymentClose(channelID: terms.channelID, finalNonce: nonce, finalAmount: Amount(amount), cooperative: cooperative,
                         timestamp: at, signature: .unsigned).signed(with: key, domain: terms.domain)
    }

    /// The attack of item 1: payer at (5, 50); the payee sends a unilateral close at (999, whole
    /// deposit) signed only by itself. It is refused with 1004; nothing is ever paid above 50.
    @Test func payeesUnilateralCloseAboveWhatThePayerSignedIsRefused() throws {
        var pair = try Pair(funds: 2_000_000, deposit: 1_000_000, challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        #expect(pair.payer.paidAmount == 50 && pair.payer.latestVoucher?.nonce == 5)
        let forged = try Self.close(pair.payer.terms, nonce: 999, amount: 1_000_000, cooperative: false, key: K.payee)
        let actions = pair.payer.receive(.paymentClose(forged), now: pair.now)
        pair.runPayer(actions)
        #expect(actions.acks.first?.status == .rejected)
        #expect(actions.acks.first?.errorCode == .channelCloseMismatch)
        #expect(actions.persisted.isEmpty && actions.settlements.isEmpty)
        #expect(pair.payer.state == .active)
        // Long after the challenge period: still nothing paid, the channel still usable.
        pair.now += 120_000
        #expect(pair.payer.onTimerTick(now: pair.now).settlements.isEmpty)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 0)
        try pair.pay(10)
        #expect(pair.payer.paidAmount == 60)
    }

    /// The same amount with a nonce the payer never reached, and a higher amount at its own nonce.
    @Test func payeesUnilateralCloseIsBoundedInNonceAndAmount() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        for (nonce, amount) in [(UInt64(6), UInt128(50)), (5, 51)] {
            var payer = pair.payer
            let c = try Self.close(payer.terms, nonce: nonce, amount: amount, cooperative: false, key: K.payee)
            #expect(payer.receive(.paymentClose(c), now: pair.now).acks.first?.errorCode == .channelCloseMismatch)
            #expect(payer.state == .active)
        }
    }

    /// A payee's honest unilateral close at the state it holds settles at that amount on both sides.
    @Test func payeesUnilateralCloseAtItsHeldVoucherSettles() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        try pair.payeeDo { p, now in try p.closeUnilaterally(now: now) }
        pair.pump()
        #expect(pair.payer.state == .closing && pair.payee?.state == .closing)
        pair.tick(pair.now + 60_000)
        #expect(pair.payer.state == .settled && pair.payee?.state == .settled)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 50)
    }

    /// The payer restored an old database (it remembers nonce 3): the payee's close at its held
    /// voucher (nonce 7) is preceded by that voucher, which the payer recognises as its own.
    @Test func payeesCloseAboveAStalePayerIsBackedByTheVoucherSentBeforeIt() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<3 { try pair.pay(100) }
        let stale = pair.payerDisk!
        for _ in 0..<4 { try pair.pay(100) }
        pair.payer = try PayerChannel(restoring: stale, key: K.payer)
        try pair.payeeDo { p, now in try p.closeUnilaterally(now: now) }
        #expect(pair.toPayer.count == 2)
        pair.pump()
        #expect(pair.payer.state == .closing && pair.payer.paidAmount == 700)
        pair.tick(pair.now + 60_000)
        #expect(pair.payer.state == .settled && pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 700)
    }

    /// A payer's close at a higher nonce but a lower amount than the voucher the payee holds: the
    /// payee disputes with the voucher (vouchers are cumulative) and is paid what it was signed.
    @Test func payersCloseAtHigherNonceButLowerAmountIsDisputed() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        let lowball = try Self.close(pair.payer.terms, nonce: 999, amount: 10, cooperative: false, key: K.payer)
        var payee = pair.payee!
        let actions = payee.receive(.paymentClose(lowball), now: pair.now)
        #expect(payee.state == .disputed)
        #expect(actions.updates.first?.amount.atomicUnits == 50)
        #expect(payee.snapshot.close?.finalAmount == 50)
    }

    /// A payee's cooperative proposal below the payer's latest (the payer never saw it acknowledged,
    /// e.g. after a restart) is accepted: it only costs the payee.
    @Test func payeesCooperativeProposalBelowThePayersLatestIsAccepted() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        var payer = try PayerChannel(restoring: pair.payerDisk!, key: K.payer) // acks are not persisted
        _ = try payer.pay(amount: 10, now: pair.now, policy: &pair.policy) // (6, 60) lost on the way
        let proposal = try Self.close(payer.terms, nonce: 5, amount: 50, cooperative: true, key: K.payee)
        let actions = payer.receive(.paymentClose(proposal), now: pair.now)
        #expect(actions.closes.first?.counterSignature == proposal.signature)
        #expect(actions.settlements.first.map { (r: SettlementRequest) -> UInt128 in if case .payout(let p) = r { p.payeeAmount } else { 0 } } == 50)
        let above = try Self.close(payer.terms, nonce: 7, amount: 70, cooperative: true, key: K.payee)
        var other = try PayerChannel(restoring: pair.payerDisk!, key: K.payer)
        #expect(other.receive(.paymentClose(above), now: pair.now).acks.first?.errorCode == .channelCloseMismatch)
    }

    /// Defence in depth: a close record whose final amount is above every payer signature the
    /// side holds (a corrupted or tampered store) is never paid out.
    @Test func storedCloseAboveThePayersSignatureIsNotPaid() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<5 { try pair.pay(10) }
        try pair.payeeDo { p, now in try p.closeUnilaterally(now: now) }
        pair.pump()
        for var disk in [pair.payerDisk!, pair.payeeDisk!] {
            disk.close!.finalAmount = 90_000
            disk.close!.finalNonce = 999
            #expect(disk.payerSignedAmount == 50)
            let role = disk.role
            var actions: [ChannelAction]
            if role == .payer {
                var p = try PayerChannel(restoring: disk, key: K.payer)
                actions = p.resume(now: pair.now + 60_000) + p.onTimerTick(now: pair.now + 60_000)
            } else {
                var p = try PayeeChannel(restoring: disk, key: K.payee)
                actions = p.resume(now: pair.now + 60_000) + p.onTimerTick(now: pair.now + 60_000)
            }
            #expect(actions.settlements.isEmpty, "\(role)")
            #expect(actions.notes.contains { if case .settlementFailed = $0 { true } else { false } }, "\(role)")
        }
    }
}
