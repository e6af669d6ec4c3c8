import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Integer money and the local ledger")
struct MoneyTests {
    @Test func depositOfUInt128MaxCanBePaidToTheLastUnit() throws {
        var pair = try Pair(funds: .max, deposit: .max)
        try pair.pay(.max - 1)
        try pair.pay(1)
        #expect(pair.payee?.receivedAmount == .max && pair.payer.available == 0)
        #expect((#expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 1, now: pair.now, policy: &pair.policy) })?.code
                == .insufficientFunds)
        pair.runPayer(try pair.payer.closeCooperatively(now: pair.now))
        pair.pump()
        #expect(pair.ledger.balance(of: K.payeeAddress, asset: "USDC") == .max)
        #expect(pair.ledger.balance(of: K.payerAddress, asset: "USDC") == 0)
    }

    @Test func payeeRefusesAVoucherAboveTheDepositAtTheBoundary() throws {
        let pair = try Pair(funds: .max, deposit: .max - 1)
        var payee = pair.payee!
        let v = try voucher(pair.payer.terms, nonce: 1, amount: .max)
        #expect(payee.receive(.paymentUpdate(v), now: K.t0).acks.first?.errorCode == .insufficientFunds)
    }

    @Test func ledgerRefusesOverflowAndOverdraftAtomically() throws {
        var ledger = LocalLedger()
        try ledger.fund(K.payerAddress, asset: "ETH", amount: .max)
        #expect(throws: LedgerError.self) { try ledger.fund(K.payerAddress, asset: "ETH", amount: 1) }
        let channel = try ChannelID([UInt8](repeating: 1, count: 32))
        let lock = DepositLock(channelID: channel, payer: K.payeeAddress, asset: "ETH", amount: 1)
        let events = ledger.submit(.lockDeposit(lock), now: 0)
        #expect(events.count == 1)
        guard case .failed(_, channel, .lockDeposit, _) = events[0] else { Issue.record("expected failure"); return }
        #expect(ledger.journal.count == 1, "a failed operation writes no entry")
    }

    @Test func payoutIsIdempotentAndDifferentPayoutsFail() throws {
        var ledger = LocalLedger()
        try ledger.fund(K.payerAddress, asset: "USDC", amount: 100)
        let channel = try ChannelID([UInt8](repeating: 1, count: 32))
        _ = ledger.submit(.lockDeposit(DepositLock(channelID: channel, payer: K.payerAddress, asset: "USDC", amount: 100)), now: 0)
        let payout = Payout(channelID: channel, payer: K.payerAddress, payee: K.payeeAddress, asset: "USDC", deposit: 100,
                            payeeAmount: 40, finalNonce: 4, cooperative: true)
        let first = ledger.submit(.payout(payout), now: 0)
        #expect(first == [.submitted("local-2", channel, .payout), .confirmed("local-2", channel, .payout)])
        let entries = ledger.journal.count
        #expect(ledger.submit(.payout(payout), now: 0) == first)
        #expect(ledger.journal.count == entries)
        var other = payout
        other.payeeAmount = 41
        guard case .failed = ledger.submit(.payout(other), now: 0).first else { Issue.record("expected failure"); return }
        var tooMuch = payout
        tooMuch.channelID = try ChannelID([UInt8](repeating: 2, count: 32))
        guard case .failed = ledger.submit(.payout(tooMuch), now: 0).first else { Issue.record("no deposit: must fail"); return }
        #expect(ledger.balance(of: K.payeeAddress, asset: "USDC") == 40 && ledger.balance(of: K.payerAddress, asset: "USDC") == 60)
        // Replaying the journal rebuilds balances, the settled record and the operation counter.
        var replayed = try LocalLedger(replaying: ledger.journal)
        #expect(replayed.balance(of: K.payeeAddress, asset: "USDC") == 40 && replayed.isSettled(channel))
        #expect(replayed.submit(.payout(payout), now: 0) == first)
        guard case .failed = replayed.submit(.payout(other), now: 0).first else { Issue.record("expected failure"); return }
        try replayed.fund(K.payerAddress, asset: "USDC", amount: 1)
        let next = replayed.submit(.lockDeposit(DepositLock(channelID: tooMuch.channelID, payer: K.payerAddress, asset: "USDC",
                                                            amount: 61)), now: 0)
        #expect(next.first == .submitted("local-3", tooMuch.channelID, .lockDeposit))
    }

    @Test func journalIsBalancedAndReplayRejectsGaps() throws {
        var pair = try Pair(funds: 1_000, deposit: 500)
        try pair.pay(123)
        pair.runPayer(try pair.payer.closeCooperatively(now: pair.now))
        pair.pump()
        let journal = pair.ledger.journal
        let reasons = journal.map(\.reason)
        #expect(reasons == [.faucet, .lockDeposit, .lockDeposit, .payout, .payout, .refund, .refund])
        var net: Int64 = 0
        for e in journal where e.reason != .faucet {
            switch e.delta { case .credit(let a): net += Int64(a); case .debit(let a): net -= Int64(a) }
        }
        #expect(net == 0)
        var gap = journal
        gap.remove(at: 2)
        #expect(throws: LedgerError.self) { try LocalLedger(replaying: gap) }
    }

    @Test func channelIDDerivation() throws {
        let a = try ChannelTerms.deriveChannelID(payer: K.payerAddress, payee: K.payeeAddress, openNonce: 0, salt: K.salt)
        var h = Keccak256()
        h.update(Array("paymesh/channel/v1".utf8)); h.update(K.payerAddress.bytes); h.update(K.payeeAddress.bytes)
        h.update([UInt8](repeating: 0, count: 8)); h.update(K.salt)
        #expect(a.bytes == h.finalize())
        #expect(a != (try ChannelTerms.deriveChannelID(payer: K.payerAddress, payee: K.payeeAddress, openNonce: 1, salt: K.salt)))
        #expect(throws: ChannelError.self) { try ChannelTerms.deriveChannelID(payer: K.payerAddress, payee: K.payeeAddress, openNonce: 0, salt: [1]) }
    }
}
