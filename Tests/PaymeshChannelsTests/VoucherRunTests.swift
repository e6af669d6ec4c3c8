import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Several vouchers of one channel received together (Specs/channels.md §4.2.1): the last one's
/// signature covers the earlier ones only when it is itself accepted; anything else is verified
/// voucher by voucher, exactly as `receive` would.
@Suite("Payee voucher runs: the last signature covers the earlier vouchers")
struct VoucherRunTests {
    typealias R = ReceiverRuleTests

    static func accepted(_ out: [[ChannelAction]]) -> [UInt64] {
        out.flatMap { $0.acks.filter { $0.status == .accepted }.map(\.nonce) }
    }

    static func refused(_ out: [[ChannelAction]]) -> [UInt64: PaymeshErrorCode] {
        var codes: [UInt64: PaymeshErrorCode] = [:]
        for a in out.flatMap(\.acks) where a.status == .rejected { codes[a.nonce] = a.errorCode }
        return codes
    }

    /// The payer's signature on the last voucher (held: nonce 2 / 200 of 1,000) covers a voucher
    /// signed by someone else before it: vouchers are cumulative, the payer signed a claim to 400.
    @Test func aValidLastVoucherCoversTheEarlierOnes() throws {
        var (payee, terms) = try R.payee()
        let run = [try voucher(terms, nonce: 3, amount: 250), try voucher(terms, nonce: 4, amount: 300, key: K.outsider),
                   try voucher(terms, nonce: 5, amount: 400)]
        let out = payee.receiveVouchers(run, now: K.t0, lastVerdict: nil)
        #expect(Self.accepted(out) == [3, 4, 5])
        #expect(payee.latestVoucher == run[2] && payee.receivedAmount == 400)
        #expect(out.map { $0.persisted.count } == [1, 1, 1], "each accepted voucher is persisted before its ack")
        #expect(try payee.latestVoucher?.verify(expectedSigner: terms.payer, domain: terms.domain) != nil)
    }

    /// Hostile: the last voucher is refused for its amount (above the deposit), so it covers
    /// nothing: the forged voucher before it is refused with 1101, the good first one accepted.
    @Test func aLastVoucherThatIsRefusedCoversNothing() throws {
        var (payee, terms) = try R.payee()
        let run = [try voucher(terms, nonce: 3, amount: 250), try voucher(terms, nonce: 4, amount: 900, key: K.outsider),
                   try voucher(terms, nonce: 5, amount: 1_001)]
        for given in [nil, SignatureVerdict.valid] {
            var p = payee
            let out = p.receiveVouchers(run, now: K.t0, lastVerdict: given)
            #expect(Self.accepted(out) == [3])
            #expect(Self.refused(out) == [4: .invalidSignature, 5: .insufficientFunds])
            #expect(p.latestVoucher == run[0])
        }
        _ = payee
    }

    /// Hostile: a forged last voucher covers nothing and is refused; the earlier ones are verified
    /// one by one.
    @Test func aForgedLastVoucherIsRefusedAndTheOthersVerified() throws {
        var (payee, terms) = try R.payee()
        let run = [try voucher(terms, nonce: 3, amount: 250), try voucher(terms, nonce: 4, amount: 260, key: K.outsider),
                   try voucher(terms, nonce: 5, amount: 300), try voucher(terms, nonce: 6, amount: 999, key: K.outsider)]
        let out = payee.receiveVouchers(run, now: K.t0, lastVerdict: nil)
        #expect(Self.accepted(out) == [3, 5])
        #expect(Self.refused(out) == [4: .invalidSignature, 6: .invalidSignature])
        #expect(payee.latestVoucher == run[2] && payee.receivedAmount == 300)
    }

    /// Hostile: a verdict the driver claims for the last voucher is used only for it; a forged
    /// earlier voucher with a higher amount than the last makes the last unacceptable, so nothing
    /// is covered and the forgery is found.
    @Test func aForgedHigherEarlierVoucherIsFound() throws {
        var (payee, terms) = try R.payee()
        let run = [try voucher(terms, nonce: 3, amount: 900, key: K.outsider), try voucher(terms, nonce: 4, amount: 300)]
        let out = payee.receiveVouchers(run, now: K.t0, lastVerdict: .valid)
        #expect(Self.accepted(out) == [4])
        #expect(Self.refused(out) == [3: .invalidSignature])
        #expect(payee.receivedAmount == 300)
    }

    /// A retry of the held voucher inside a run is acknowledged again and does not stop the cover.
    @Test func aRetryInsideARunIsAcknowledgedAgain() throws {
        var (payee, terms) = try R.payee()
        let held = try #require(payee.latestVoucher)
        let run = [held, try voucher(terms, nonce: 3, amount: 250, key: K.outsider), try voucher(terms, nonce: 4, amount: 260)]
        let out = payee.receiveVouchers(run, now: K.t0, lastVerdict: nil)
        #expect(Self.accepted(out) == [2, 3, 4])
        #expect(out[0].persisted.isEmpty, "the retry is not persisted again")
        #expect(payee.latestVoucher == run[2])
    }

    /// Random runs (seeded, replayable with PAYMESH_TEST_SEED): whatever the mix of forged,
    /// repeated, stale and oversized vouchers, (1) the payee's latest voucher always carries the
    /// payer's signature, (2) no accepted voucher claims more than it, and (3) when every
    /// signature in the run is the payer's the outcome is exactly that of `receive` one by one.
    @Test func randomRunsNeverLeaveAnUnsignedClaim() throws {
        var rng = SplitMix64(seed: TestSeed.resolve("randomRunsNeverLeaveAnUnsignedClaim"))
        let (start, terms) = try R.payee()
        for _ in 0..<300 {
            let n = Int.random(in: 2...7, using: &rng)
            var nonce: UInt64 = 2, amount: UInt128 = 200
            var run: [PaymentUpdate] = []
            var allSigned = true
            for _ in 0..<n {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0: nonce = max(1, nonce - 1) // stale or repeated nonce
                case 1: amount += 2_000 // above the deposit
                default: nonce += UInt64.random(in: 1...3, using: &rng); amount += UInt128.random(in: 0...150, using: &rng)
                }
                let forged = Int.random(in: 0..<4, using: &rng) == 0
                allSigned = allSigned && !forged
                run.append(try voucher(terms, nonce: nonce, amount: amount, key: forged ? K.outsider : K.payer))
            }
            var batch = start
            let out = batch.receiveVouchers(run, now: K.t0, lastVerdict: nil)
            let latest = try #require(batch.latestVoucher)
            #expect((try? latest.verify(expectedSigner: terms.payer, domain: terms.domain)) != nil, "\(run)")
            for (v, actions) in zip(run, out) where actions.acks.contains(where: { $0.status == .accepted }) {
                #expect(v.amount <= latest.amount)
            }
            if allSigned {
                var single = start
                let one = run.map { single.receive(.paymentUpdate($0), now: K.t0) }
                #expect(one == out && single.latestVoucher == batch.latestVoucher)
            }
        }
    }
}

/// The payer's vouchers signed ahead of the machine (Specs/channels.md §4.2.1, last paragraph): the
/// machine uses a presigned voucher only when it is exactly the one it signs, else signs itself.
@Suite("Payer: vouchers signed ahead")
struct PresignedVoucherTests {
    static func sent(_ actions: [ChannelAction]) -> PaymentUpdate? {
        actions.updates.first
    }

    @Test func upcomingVouchersAreExactlyWhatPaySigns() throws {
        let pair = try Pair(deposit: 1_000)
        var payer = pair.payer
        var policy = SpendingGuard()
        let upcoming = payer.upcomingVouchers(amount: 300, count: 5, taskID: "t", now: K.t0)
        #expect(upcoming.map(\.nonce) == [1, 2, 3], "the fourth would pass the deposit")
        #expect(upcoming.map(\.amount) == [Amount(300), Amount(600), Amount(900)])
        for u in upcoming {
            let presigned = try u.signed(with: K.payer, domain: payer.terms.domain)
            let v = try #require(Self.sent(try payer.pay(amount: 300, taskID: "t", now: K.t0, policy: &policy, presigned: presigned)))
            #expect(v == presigned)
        }
        #expect(throws: ChannelError.self) { try payer.pay(amount: 300, taskID: "t", now: K.t0, policy: &policy) }
    }

    /// A presigned voucher that is not the one the machine signs now (another amount, nonce,
    /// task or time) is not used: the machine signs its own, with the payer's key.
    @Test func aPresignedVoucherThatDiffersIsNotUsed() throws {
        let pair = try Pair(deposit: 1_000)
        let terms = pair.payer.terms
        let wrong = [
            try voucher(terms, nonce: 1, amount: 999, key: K.outsider),
            try voucher(terms, nonce: 2, amount: 100, key: K.outsider),
            try voucher(terms, nonce: 1, amount: 100, key: K.outsider, task: "other"),
            try voucher(terms, nonce: 1, amount: 100, key: K.outsider, at: K.t0 + 1),
        ]
        for w in wrong {
            var payer = pair.payer
            var policy = SpendingGuard()
            let v = try #require(Self.sent(try payer.pay(amount: 100, now: K.t0, policy: &policy, presigned: w)))
            #expect(v.signature != w.signature)
            #expect(try v.recoverSigner(domain: terms.domain) == K.payerAddress)
        }
    }
}
