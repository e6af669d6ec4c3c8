import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Payer and payee wired in memory")
struct FlowTests {
    @Test func openHandshakeLocksDepositAndOpensBothSides() throws {
        let pair = try Pair(funds: 1_000_000, deposit: 100_000)
        #expect(pair.payer.state == .open)
        #expect(pair.payee?.state == .open)
        #expect(pair.payerDisk?.state == .open && pair.payerDisk?.depositLocked == true)
        #expect(pair.payeeDisk?.state == .open)
        #expect(pair.ledger.balance(of: K.payerAddress, asset: "USDC") == 900_000)
        #expect(pair.ledger.escrow(of: pair.payer.channelID) == 100_000)
    }

    /// The payer's first voucher moves OPEN → ACTIVE through the lifecycle table: the same
    /// `stateChanged` notification as the payee's, after the durable write and the send.
    @Test func payerFirstVoucherNotifiesOpenToActive() throws {
        var pair = try Pair(funds: 1_000_000, deposit: 100_000)
        let id = pair.payer.channelID
        let first = try pair.payer.pay(amount: 5, now: pair.now, policy: &pair.policy)
        #expect(first.notes == [.stateChanged(id, from: .open, to: .active)])
        let persist = first.firstIndex { if case .persist = $0 { true } else { false } }
        let notify = first.firstIndex { if case .notify = $0 { true } else { false } }
        #expect(persist != nil && notify != nil && persist! < notify!)
        #expect(first.persisted.last?.state == .active && pair.payer.state == .active)
        pair.runPayer(first)
        pair.pump()
        #expect(pair.payeeNotes.contains(.stateChanged(id, from: .open, to: .active)))
        // Later vouchers stay ACTIVE without a notification.
        let second = try pair.payer.pay(amount: 5, now: pair.now, policy: &pair.policy)
        #expect(second.notes.isEmpty)
    }

    @Test func manyPaymentsThenCooperativeCloseSettlesExactBalances() throws {
        var pair = try Pair(funds: 1_000_000, deposit: 100_000)
        var expected: UInt128 = 0
        for i in 1...300 {
            let amount = UInt128(i % 7 + 1)
            expected += amount
            try pair.pay(amount, task: i % 50 == 0 ? "task-\(i)" : nil)
        }
        #expect(pair.payer.paidAmount == expected)
        #expect(pair.payer.ackedNonce == 300 && pair.payer.ackedAmount == expected)
        #expect(pair.payer.unacknowledgedCount == 0)
        #expect(pair.payee?.receivedAmount == expected)
        #expect(pair.payeeDisk?.latestVoucher?.nonce == 300)
        #expect(pair.payerDisk?.latestVoucher?.nonce == 300)
        let received = pair.payeeNotes.compactMap { if case .paymentReceived(_, _, let inc, _, _) = $0 { inc } else { nil } }
        #expect(received.count == 300 && received.reduce(0, +) == expected)

        pair.runPayer(try pair.payer.closeCooperatively(now: pair.now))
        pair.pump()
        #expect(pair.payer.state == .settled)
        #expect(pair.payee?.state == .settled)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == expected)
        #expect(pair.ledger.balance(of: K.payerAddress, asset: "USDC") == 1_000_000 - expected)
        #expect(pair.ledger.escrow(of: pair.payer.channelID) == 0)
        #expect(pair.payerNotes.contains(.settled(pair.payer.channelID, payeeAmount: expected, refund: 100_000 - expected, offChain: true)))
        // Both sides asked for the payout; each side's books applied it once.
        #expect(pair.ledger.journal.filter { $0.posting.reason == .payout }.count == 1)
        #expect(pair.payeeBooks.journal.map(\.posting) == [LedgerPosting(owner: K.payeeAddress, direction: .credit, amount: expected, reason: .payout)])
        #expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 1, now: pair.now, policy: &pair.policy) }
    }

    @Test func payeeInitiatedCooperativeClose() throws {
        var pair = try Pair()
        for _ in 0..<5 { try pair.pay(10) }
        try pair.payeeDo { p, now in try p.closeCooperatively(now: now) }
        pair.pump()
        #expect(pair.payer.state == .settled && pair.payee?.state == .settled)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 50)
    }

    @Test func cooperativeCloseWithWrongFinalStateIsRejected() throws {
        var pair = try Pair()
        try pair.pay(10)
        let bad = try PaymentClose(channelID: pair.payer.channelID, finalNonce: 1, finalAmount: Amount(9), cooperative: true,
                                   timestamp: pair.now, signature: .unsigned).signed(with: K.payer, domain: pair.payer.terms.domain)
        var payee = pair.payee!
        let actions = payee.receive(.paymentClose(bad), now: pair.now)
        #expect(actions.acks.first?.errorCode == .channelCloseMismatch)
        #expect(payee.state == .active)
        let forged = try PaymentClose(channelID: pair.payer.channelID, finalNonce: 1, finalAmount: Amount(10), cooperative: true,
                                      timestamp: pair.now, signature: .unsigned).signed(with: K.outsider, domain: pair.payer.terms.domain)
        #expect(payee.receive(.paymentClose(forged), now: pair.now).acks.first?.errorCode == .invalidSignature)
    }

    @Test func unilateralCloseSettlesAfterChallengePeriod() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<3 { try pair.pay(100) }
        try pair.payeeDo { p, now in try p.closeUnilaterally(now: now) }
        pair.pump()
        #expect(pair.payer.state == .closing && pair.payee?.state == .closing)
        pair.tick(pair.now + 59_999)
        #expect(pair.payer.state == .closing)
        pair.tick(pair.now + 60_001)
        #expect(pair.payer.state == .settled && pair.payee?.state == .settled)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 300)
    }

    @Test func unilateralCloseWithStaleVoucherIsDisputedAndTheHigherVoucherWins() throws {
        var pair = try Pair(challenge: 60)
        for _ in 0..<3 { try pair.pay(100) }
        let stale = pair.payerDisk!
        for _ in 0..<4 { try pair.pay(100) } // payee now holds nonce 7, 700
        // The payer restores an old database (nonce 3) and closes unilaterally at 300.
        pair.payer = try PayerChannel(restoring: stale, key: K.payer)
        pair.runPayer(try pair.payer.closeUnilaterally(now: pair.now))
        #expect(pair.toPayee.count == 1)
        pair.pump()
        #expect(pair.payee?.state == .disputed)
        #expect(pair.payer.state == .disputed) // the payer saw the payee's evidence
        #expect(pair.payeeNotes.contains(.disputed(pair.payer.channelID, nonce: 7, cumulative: 700)))
        pair.tick(pair.now + 60_000)
        #expect(pair.payer.state == .settled && pair.payee?.state == .settled)
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == 700)
        #expect(pair.ledger.balance(of: K.payerAddress, asset: "USDC") == 1_000_000 - 700)
    }

    @Test func settlementFailureIsReportedAndRetried() throws {
        var pair = try Pair(challenge: 60)
        try pair.pay(5)
        try pair.payeeDo { p, now in try p.closeUnilaterally(now: now) }
        pair.pump()
        pair.now += 60_000
        var payee = pair.payee!
        let request = payee.onTimerTick(now: pair.now)
        #expect(request.settlements.count == 1)
        let failed = payee.onSettlement(.failed("tx1", payee.channelID, .payout, reason: "reverted"), now: pair.now, offChain: false)
        #expect(failed.notes.contains(.settlementFailed(payee.channelID, reason: "reverted")))
        #expect(payee.state == .closing)
        #expect(payee.onTimerTick(now: pair.now + 1).settlements.count == 1) // retried
        _ = payee.onSettlement(.submitted("tx2", payee.channelID, .payout), now: pair.now, offChain: false)
        #expect(payee.snapshot.close?.settlementID == "tx2" && payee.state == .closing)
        _ = payee.onSettlement(.confirmed("tx2", payee.channelID, .payout), now: pair.now, offChain: false)
        #expect(payee.state == .settled)
    }

    @Test func rejectedOpenReleasesTheDeposit() throws {
        let ledger = MemoryLedger()
        try ledger.fund(K.payerAddress, asset: "USDC", amount: 500)
        var (payer, actions) = try PayerChannel.open(key: K.payer, payee: K.payeeAddress, asset: K.usdc, deposit: 500,
                                                     challengePeriodSeconds: 10, salt: K.salt, now: K.t0)
        var open: PaymentOpen?
        for e in ledger.submitNow(actions.settlements[0], side: .payer, now: K.t0) {
            let a = payer.onSettlement(e, now: K.t0, offChain: true)
            if case .paymentOpen(let o)? = a.sent.first { open = o }
        }
        #expect(ledger.balance(of: K.payerAddress, asset: "USDC") == 0)
        // challenge period 10 s is below the payee's 60 s minimum: 1003.
        guard case .rejected(let error, let rejection) = PayeeChannel.accept(open!, key: K.payee, policy: .init(),
                                                                              authenticatedPeer: K.payerAddress, now: K.t0) else {
            Issue.record("accepted"); return
        }
        #expect(error.code == .channelDepositInvalid)
        actions = payer.receive(rejection.sent[0], now: K.t0)
        #expect(payer.state == .settled)
        for e in ledger.submitNow(actions.settlements[0], side: .payer, now: K.t0) { _ = payer.onSettlement(e, now: K.t0, offChain: true) }
        #expect(ledger.balance(of: K.payerAddress, asset: "USDC") == 500)
    }

    @Test func depositLockFailureNeverSendsTheOpen() throws {
        let ledger = MemoryLedger() // unfunded
        var (payer, actions) = try PayerChannel.open(key: K.payer, payee: K.payeeAddress, asset: K.usdc, deposit: 1,
                                                     salt: K.salt, now: K.t0)
        var sent: [Message] = []
        for e in ledger.submitNow(actions.settlements[0], side: .payer, now: K.t0) {
            actions = payer.onSettlement(e, now: K.t0, offChain: true)
            sent += actions.sent
        }
        #expect(sent.isEmpty)
        #expect(payer.state == .settled)
    }
}
