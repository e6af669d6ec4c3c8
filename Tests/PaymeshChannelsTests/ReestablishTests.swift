import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Re-establishment after disconnect and restart")
struct ReestablishTests {
    @Test func lostAckPayerResendsAndPayeeAcksIdempotently() throws {
        var pair = try Pair()
        try pair.pay(10)
        pair.runPayer(try pair.payer.pay(amount: 5, now: pair.now, policy: &pair.policy))
        pair.deliverToPayee(pair.toPayee.removeFirst())
        pair.toPayer.removeAll() // the ack is lost
        #expect(pair.payer.ackedNonce == 1 && pair.payee?.latestVoucher?.nonce == 2)
        // Both restart from disk.
        pair.payer = try PayerChannel(restoring: pair.payerDisk!, key: K.payer)
        pair.payee = try PayeeChannel(restoring: pair.payeeDisk!, key: K.payee)
        pair.runPayer(pair.payer.reestablish(now: pair.now))
        pair.payeeDo { p, now in p.reestablish(now: now) }
        let receivedBefore = pair.payeeNotes.count
        pair.pump()
        #expect(pair.payer.ackedNonce == 2 && pair.payer.ackedAmount == 15)
        #expect(pair.payee?.receivedAmount == 15)
        #expect(pair.payeeNotes.count == receivedBefore, "nothing was paid twice")
        try pair.pay(1)
        #expect(pair.payee?.latestVoucher?.nonce == 3 && pair.payee?.receivedAmount == 16)
    }

    @Test func voucherLostBeforeThePayeeGotItIsAcceptedOnResend() throws {
        var pair = try Pair()
        try pair.pay(10)
        pair.runPayer(try pair.payer.pay(amount: 5, now: pair.now, policy: &pair.policy))
        pair.toPayee.removeAll() // lost on the wire; the payer had persisted it
        pair.payer = try PayerChannel(restoring: pair.payerDisk!, key: K.payer) // payer crashed too
        #expect(pair.payer.latestVoucher?.nonce == 2)
        pair.runPayer(pair.payer.reestablish(now: pair.now))
        pair.pump()
        #expect(pair.payee?.latestVoucher?.nonce == 2 && pair.payee?.receivedAmount == 15)
        #expect(pair.payer.ackedNonce == 2)
    }

    @Test func payeeCrashedAfterPersistingBeforeAcking() throws {
        var pair = try Pair()
        try pair.pay(10)
        pair.runPayer(try pair.payer.pay(amount: 7, now: pair.now, policy: &pair.policy))
        pair.deliverToPayee(pair.toPayee.removeFirst())
        pair.toPayer.removeAll()
        pair.payee = try PayeeChannel(restoring: pair.payeeDisk!, key: K.payee)
        pair.payeeDo { p, now in p.reestablish(now: now) } // payee shows nonce 2 first
        pair.runPayer(pair.payer.reestablish(now: pair.now))
        pair.pump()
        #expect(pair.payer.ackedNonce == 2 && pair.payer.ackedAmount == 17)
        #expect(pair.payee?.receivedAmount == 17)
    }

    @Test func payerRestoredFromAStaleBackupAdoptsThePayeesStateAndNeverReusesANonce() throws {
        var pair = try Pair()
        try pair.pay(10)
        let stale = pair.payerDisk!
        try pair.pay(20)
        try pair.pay(30) // payee holds nonce 3, 60
        pair.payer = try PayerChannel(restoring: stale, key: K.payer)
        #expect(pair.payer.latestVoucher?.nonce == 1)
        pair.runPayer(pair.payer.reestablish(now: pair.now))
        pair.payeeDo { p, now in p.reestablish(now: now) }
        pair.pump()
        #expect(pair.payer.latestVoucher?.nonce == 3 && pair.payer.paidAmount == 60)
        #expect(pair.payerNotes.contains(.stateRecovered(pair.payer.channelID, nonce: 3, cumulative: 60)))
        #expect(pair.payerDisk?.latestVoucher?.nonce == 3, "the adopted state is persisted")
        try pair.pay(1)
        #expect(pair.payee?.latestVoucher?.nonce == 4 && pair.payee?.receivedAmount == 61)
    }

    @Test func staleBackupLearnsFromARejectionEvenWithoutThePayeeSpeakingFirst() throws {
        var pair = try Pair()
        try pair.pay(10)
        try pair.pay(10)
        let stale = pair.payerDisk!
        try pair.pay(10)
        pair.payer = try PayerChannel(restoring: stale, key: K.payer)
        // The payer pays before re-establishing: nonce 3 with 30 collides with the payee's nonce 3 (30)?
        // It is identical here (same amount and timestamp), so the payee acknowledges it idempotently.
        try pair.pay(10)
        #expect(pair.payee?.receivedAmount == 30 && pair.payer.ackedNonce == 3)
        // Now a different amount for an already used nonce: refused with 1103 and the payee's copy.
        let stale2 = pair.payerDisk!
        try pair.pay(5) // nonce 4, 35
        pair.payer = try PayerChannel(restoring: stale2, key: K.payer)
        pair.runPayer(try pair.payer.pay(amount: 9, now: pair.now + 1, policy: &pair.policy)) // nonce 4, 39: conflicts
        pair.pump()
        #expect(pair.payerNotes.contains { if case .paymentRejected(_, 4, .duplicateNonce, _) = $0 { true } else { false } })
        #expect(pair.payee?.receivedAmount == 35)
        try pair.pay(1) // nonce 5 with 40 > 35: accepted, the payee is never paid less than it holds
        #expect(pair.payee?.latestVoucher?.nonce == 5 && pair.payee?.receivedAmount == 40)
    }

    @Test func proposedChannelResendsItsOpen() throws {
        var pair = try Pair()
        var payer = try PayerChannel(restoring: pair.payerDisk!, key: K.payer)
        #expect(payer.state == .open)
        #expect(payer.reestablish(now: pair.now).sent == [.paymentOpen(payer.terms.open)])
        var payee = pair.payee!
        #expect(payee.receive(.paymentOpen(payer.terms.open), now: pair.now).acks.first?.status == .accepted)
        pair.now += 1
    }

    @Test func unansweredCooperativeCloseIsResent() throws {
        var pair = try Pair()
        try pair.pay(3)
        pair.runPayer(try pair.payer.closeCooperatively(now: pair.now))
        pair.toPayee.removeAll()
        pair.payer = try PayerChannel(restoring: pair.payerDisk!, key: K.payer)
        pair.runPayer(pair.payer.reestablish(now: pair.now))
        pair.pump()
        #expect(pair.payer.state == .settled && pair.payee?.state == .settled)
    }
}
