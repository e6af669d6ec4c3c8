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
        let ledger = MemoryLedger()
        try ledger.fund(K.payerAddress, asset: "ETH", amount: .max)
        #expect(throws: LedgerError.self) { try ledger.fund(K.payerAddress, asset: "ETH", amount: 1) }
        let channel = try ChannelID([UInt8](repeating: 1, count: 32))
        let lock = DepositLock(channelID: channel, payer: K.payeeAddress, asset: "ETH", amount: 1)
        let events = ledger.submitNow(.lockDeposit(lock), side: .payer, now: 0)
        #expect(events.count == 1)
        guard case .failed(_, channel, .lockDeposit, _) = events[0] else { Issue.record("expected failure"); return }
        #expect(ledger.journal.count == 1, "a failed operation writes no entry")
    }

    @Test func payoutIsIdempotentAndDifferentPayoutsFail() throws {
        let ledger = MemoryLedger()
        try ledger.fund(K.payerAddress, asset: "USDC", amount: 100)
        let channel = try ChannelID([UInt8](repeating: 1, count: 32))
        _ = ledger.submitNow(.lockDeposit(DepositLock(channelID: channel, payer: K.payerAddress, asset: "USDC", amount: 100)), side: .payer, now: 0)
        let payout = Payout(channelID: channel, payer: K.payerAddress, payee: K.payeeAddress, asset: "USDC", deposit: 100,
                            payeeAmount: 40, finalNonce: 4, cooperative: true)
        let first = ledger.submitNow(.payout(payout), side: .payer, now: 0)
        let id = LedgerRules.settlementID(.payout(payout))
        #expect(first == [.submitted(id, channel, .payout), .confirmed(id, channel, .payout)])
        let entries = ledger.journal.count
        #expect(ledger.submitNow(.payout(payout), side: .payer, now: 0) == first)
        #expect(ledger.journal.count == entries)
        var other = payout
        other.payeeAmount = 41
        guard case .failed = ledger.submitNow(.payout(other), side: .payer, now: 0).first else { Issue.record("expected failure"); return }
        var tooMuch = payout
        tooMuch.channelID = try ChannelID([UInt8](repeating: 2, count: 32))
        guard case .failed = ledger.submitNow(.payout(tooMuch), side: .payer, now: 0).first else { Issue.record("no deposit: must fail"); return }
        #expect(ledger.balance(of: K.payeeAddress, asset: "USDC") == 40 && ledger.balance(of: K.payerAddress, asset: "USDC") == 60)
        #expect(ledger.escrow(of: channel) == 0 && ledger.lockedDeposit(of: channel) == nil)
        // The payee's own books: one payout credit, repeated idempotently, another division refused.
        let payee = MemoryLedger()
        #expect(payee.submitNow(.payout(payout), side: .payee, now: 0) == first)
        #expect(payee.submitNow(.payout(payout), side: .payee, now: 0) == first)
        guard case .failed = payee.submitNow(.payout(other), side: .payee, now: 0).first else { Issue.record("expected failure"); return }
        #expect(payee.balance(of: K.payeeAddress, asset: "USDC") == 40 && payee.journal.count == 1)
    }

    /// The one copy of the payout rules: a payout above the deposit is refused, the refund is
    /// deposit − payee amount (checked), a second lock of a channel is refused.
    @Test func ledgerRulesCheckThePayoutArithmetic() throws {
        #expect(LedgerRules.refund(deposit: .max, payeeAmount: .max) == 0)
        #expect(LedgerRules.refund(deposit: 5, payeeAmount: 6) == nil)
        let channel = try ChannelID([UInt8](repeating: 3, count: 32))
        let lock = LedgerPosting(owner: K.payerAddress, direction: .debit, amount: 10, reason: .depositLock)
        let payout = Payout(channelID: channel, payer: K.payerAddress, payee: K.payeeAddress, asset: "USDC", deposit: 10,
                            payeeAmount: 10, finalNonce: 1, cooperative: false)
        #expect(LedgerRules.plan(.payout(payout), side: .payer, prior: [lock], at: 0)
                == .post([LedgerPosting(owner: K.payeeAddress, direction: .credit, amount: 10, reason: .payout)]))
        var wrongDeposit = payout
        wrongDeposit.deposit = 11
        #expect(LedgerRules.plan(.payout(wrongDeposit), side: .payer, prior: [lock], at: 0) == .refuse("payout does not match the locked deposit"))
        let again = DepositLock(channelID: channel, payer: K.payerAddress, asset: "USDC", amount: 10)
        #expect(LedgerRules.plan(.lockDeposit(again), side: .payer, prior: [lock], at: 0) == .refuse("channel already has a deposit"))
    }

    @Test func journalIsBalanced() throws {
        var pair = try Pair(funds: 1_000, deposit: 500)
        try pair.pay(123)
        pair.runPayer(try pair.payer.closeCooperatively(now: pair.now))
        pair.pump()
        let journal = pair.ledger.journal
        #expect(journal.map(\.posting.reason) == [.funding, .depositLock, .payout, .refund])
        var net: Int64 = 0
        for e in journal where e.posting.reason != .funding {
            switch e.posting.direction { case .credit: net += Int64(e.posting.amount); case .debit: net -= Int64(e.posting.amount) }
        }
        #expect(net == 0)
        #expect(pair.payeeBooks.journal.map(\.posting.amount) == [123])
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
