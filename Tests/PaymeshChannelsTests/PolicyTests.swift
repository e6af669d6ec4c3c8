import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Spending policies")
struct PolicyTests {
    static let other = K.outsider.address

    @Test func limitsTable() throws {
        // (policy, prior payments to payee, amount, expected limit)
        let cases: [(SpendingPolicy, [UInt128], UInt128, PolicyLimit?)] = [
            (.unlimited, [], UInt128.max, nil),
            (.init(maxPerPayment: 10), [], 10, nil),
            (.init(maxPerPayment: 10), [], 11, .maxPerPayment),
            (.init(maxTotalPerPeer: 100), [60, 30], 10, nil),
            (.init(maxTotalPerPeer: 100), [60, 30], 11, .maxTotalPerPeer),
            (.init(maxTotal: 50), [50], 1, .maxTotal),
            (.init(maxTotal: UInt128.max), [UInt128.max], 1, .maxTotal),
            (.init(denyList: [K.payeeAddress]), [], 1, .denied),
            (.init(allowList: [Self.other]), [], 1, .notAllowed),
            (.init(allowList: [K.payeeAddress]), [], 1, nil),
            (.init(maxPaymentsPerMinute: 2), [1, 1], 1, .ratePerMinute),
            (.init(maxPaymentsPerMinute: 0), [], 1, .ratePerMinute),
        ]
        for (i, (policy, prior, amount, expected)) in cases.enumerated() {
            var g = SpendingGuard(policy: policy)
            for p in prior { g.record(peer: K.payeeAddress, amount: p, now: K.t0) }
            let result = Result { () throws(ChannelError) in try g.check(peer: K.payeeAddress, amount: amount, now: K.t0) }
            switch result {
            case .success: #expect(expected == nil, "case \(i)")
            case .failure(let e):
                #expect(e.policyLimit == expected, "case \(i)")
                #expect(e.code == expected?.code, "case \(i)")
            }
        }
        #expect(PolicyLimit.denied.code == .peerBlacklisted && PolicyLimit.maxTotal.code == .invalidAmount
                && PolicyLimit.ratePerMinute.code == .rateLimited)
    }

    @Test func perPeerTotalsAreSeparate() throws {
        var g = SpendingGuard(policy: .init(maxTotalPerPeer: 10, maxTotal: 15))
        g.record(peer: K.payeeAddress, amount: 10, now: K.t0)
        #expect(throws: ChannelError.self) { try g.check(peer: K.payeeAddress, amount: 1, now: K.t0) }
        try g.check(peer: Self.other, amount: 5, now: K.t0)
        g.record(peer: Self.other, amount: 5, now: K.t0)
        let e = #expect(throws: ChannelError.self) { try g.check(peer: Self.other, amount: 1, now: K.t0) }
        #expect(e?.policyLimit == .maxTotal)
    }

    @Test func rateWindowSlides() throws {
        var g = SpendingGuard(policy: .init(maxPaymentsPerMinute: 3))
        for t in [0, 10_000, 20_000] as [UInt64] {
            try g.check(peer: K.payeeAddress, amount: 1, now: K.t0 + t)
            g.record(peer: K.payeeAddress, amount: 1, now: K.t0 + t)
        }
        #expect(throws: ChannelError.self) { try g.check(peer: K.payeeAddress, amount: 1, now: K.t0 + 59_999) }
        try g.check(peer: K.payeeAddress, amount: 1, now: K.t0 + 60_000) // the first left the window
        g.record(peer: K.payeeAddress, amount: 1, now: K.t0 + 60_000)
        #expect(throws: ChannelError.self) { try g.check(peer: K.payeeAddress, amount: 1, now: K.t0 + 69_999) }
        try g.check(peer: K.payeeAddress, amount: 1, now: K.t0 + 70_000)
        g.record(peer: K.payeeAddress, amount: 1, now: K.t0 + 70_000)
        // A clock going backwards frees no room.
        #expect(throws: ChannelError.self) { try g.check(peer: K.payeeAddress, amount: 1, now: K.t0) }
    }

    @Test func violationSignsNothingAndChangesNothing() throws {
        var pair = try Pair()
        try pair.pay(5)
        pair.policy.update(.init(maxPerPayment: 10, maxPaymentsPerMinute: 100))
        let before = pair.payer.snapshot
        let e = #expect(throws: ChannelError.self) {
            _ = try pair.payer.pay(amount: 11, now: pair.now, policy: &pair.policy)
        }
        #expect(e?.code == .invalidAmount && e?.policyLimit == .maxPerPayment)
        #expect(pair.payer.snapshot == before)
        #expect(pair.policy.spentTotal == 5)
        pair.policy.update(.init(denyList: [K.payeeAddress]))
        #expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 1, now: pair.now, policy: &pair.policy) }
        #expect(pair.payer.snapshot == before)
        pair.policy.update(.unlimited)
        try pair.pay(1)
        #expect(pair.payer.latestVoucher?.nonce == 2 && pair.policy.spentTotal == 6)
    }

    @Test func payerBalanceAndAmountChecks() throws {
        var pair = try Pair(deposit: 100)
        #expect((#expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 0, now: pair.now, policy: &pair.policy) })?.code == .invalidAmount)
        #expect((#expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 101, now: pair.now, policy: &pair.policy) })?.code == .insufficientFunds)
        try pair.pay(100)
        #expect(pair.payer.available == 0)
        #expect((#expect(throws: ChannelError.self) { _ = try pair.payer.pay(amount: 1, now: pair.now, policy: &pair.policy) })?.code == .insufficientFunds)
        #expect(pair.policy.spentTotal == 100)
    }
}
