import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// The local ledger's rule for a close on a conditional voucher (Specs/messages.md §5.8,
/// channels.md §6.3), checked against the claim outcomes of Specs/vectors/htlc.json.
@Suite("Settlement: conditional vouchers at close")
struct ConditionalClaimTests {
    struct File: Decodable { let vectors: [Vector] }
    struct Vector: Decodable {
        struct Domain: Decodable { let chainId: UInt64; let verifyingContract: String }
        struct Lock: Decodable { let htlc_id: String; let payment_hash: String; let amount: String; let expiry: UInt64 }
        struct Voucher: Decodable { let channel_id: String; let nonce: UInt64; let amount: String; let timestamp: UInt64; let locks: [Lock] }
        struct Signer: Decodable { let address: String }
        struct Claim: Decodable { let description: String; let preimages: [String?]; let at: UInt64; let claimable: String }
        let description: String
        let domain: Domain
        let voucher: Voucher
        let signer: Signer
        let signature: String
        let claims: [Claim]
    }

    static let payee = try! EthereumAddress([UInt8](repeating: 0xBB, count: 20))

    static func amount(_ s: String) throws -> UInt128 { try #require(UInt128(s)) }

    /// Each vector's voucher as a payout of a channel whose deposit is twice the voucher's amount.
    static func payouts() throws -> [(Vector, Payout, [Vector.Claim])] {
        let file = try TestVectors.load(File.self, spec: "htlc.json")
        return try file.vectors.map { v in
            let locks = try v.voucher.locks.map {
                HTLCLock(htlcID: try HTLCID(hex: $0.htlc_id), paymentHash: try Hash32(hex: $0.payment_hash),
                         amount: Amount(try amount($0.amount)), expiry: $0.expiry)
            }
            let voucher = ConditionalVoucher(channelID: try ChannelID(hex: v.voucher.channel_id), nonce: v.voucher.nonce,
                                             amount: Amount(try amount(v.voucher.amount)), timestamp: v.voucher.timestamp, locks: locks)
            let domain = SigningDomain(chainID: v.domain.chainId, verifyingContract: try EthereumAddress(hex: v.domain.verifyingContract))
            let claim = ConditionalClaim(voucher: voucher, signature: try Signature65(hex: v.signature), domain: domain,
                                         type: .htlcPropose, preimages: [])
            let payout = Payout(channelID: voucher.channelID, payer: try EthereumAddress(hex: v.signer.address), payee: payee,
                                asset: "USDC", deposit: voucher.amount.atomicUnits * 2, payeeAmount: voucher.amount.atomicUnits,
                                finalNonce: voucher.nonce, cooperative: false, claim: claim)
            return (v, payout, v.claims)
        }
    }

    static func withPreimages(_ p: Payout, _ c: Vector.Claim) throws -> Payout {
        var p = p
        p.claim!.preimages = try c.preimages.map { try $0.map { try Hash32(hex: $0) } }
        return p
    }

    static func lock(_ p: Payout) -> LedgerPosting {
        LedgerPosting(owner: p.payer, direction: .debit, amount: p.deposit, reason: .depositLock)
    }

    @Test func bothBooksPayWhatTheVectorsClaim() throws {
        var seen = 0
        for (v, base, claims) in try Self.payouts() {
            for c in claims {
                let p = try Self.withPreimages(base, c)
                let paid = try Self.amount(c.claimable), refund = p.deposit - paid
                let what = "\(v.description): \(c.description)"
                #expect(LedgerRules.plan(.payout(p), side: .payee, prior: [], at: c.at)
                        == .post([LedgerPosting(owner: Self.payee, direction: .credit, amount: paid, reason: .payout)]), "\(what)")
                #expect(LedgerRules.plan(.payout(p), side: .payer, prior: [Self.lock(p)], at: c.at)
                        == .post([LedgerPosting(owner: Self.payee, direction: .credit, amount: paid, reason: .payout),
                                  LedgerPosting(owner: p.payer, direction: .credit, amount: refund, reason: .refund)]), "\(what)")
                seen += 1
            }
        }
        #expect(seen >= 8)
    }

    /// A preimage registered before the expiry stays paid when the same claim is repeated after it;
    /// a different division is refused.
    @Test func aRepeatAfterTheExpiryIsConfirmedAgain() throws {
        let (_, base, claims) = try #require(try Self.payouts().first)
        let good = try #require(claims.first { $0.description.contains("before expiry") })
        let p = try Self.withPreimages(base, good)
        let paid = try Self.amount(good.claimable)
        let books = [LedgerPosting(owner: Self.payee, direction: .credit, amount: paid, reason: .payout)]
        let late = p.claim!.voucher.locks.map(\.expiry).max()! + 1
        #expect(LedgerRules.plan(.payout(p), side: .payee, prior: books, at: late) == .alreadyApplied)
        let payerBooks = [Self.lock(p)] + books + [LedgerPosting(owner: p.payer, direction: .credit, amount: p.deposit - paid, reason: .refund)]
        #expect(LedgerRules.plan(.payout(p), side: .payer, prior: payerBooks, at: late) == .alreadyApplied)
        let other = [LedgerPosting(owner: Self.payee, direction: .credit, amount: paid - 1, reason: .payout)]
        #expect(LedgerRules.plan(.payout(p), side: .payee, prior: other, at: late) == .refuse("channel already settled with another final state"))
    }

    @Test func aClaimNotSignedByThePayerOrNotTheFinalVoucherIsRefused() throws {
        let (_, base, claims) = try #require(try Self.payouts().first)
        let p = try Self.withPreimages(base, claims[0])
        var forged = p
        forged.payer = Self.payee
        #expect(LedgerRules.plan(.payout(forged), side: .payee, prior: [], at: 0) == .refuse("conditional voucher is not signed by the payer"))
        var tampered = p
        tampered.claim!.voucher.locks[0].expiry += 1
        #expect(LedgerRules.plan(.payout(tampered), side: .payee, prior: [], at: 0) == .refuse("conditional voucher is not signed by the payer"))
        var otherNonce = p
        otherNonce.finalNonce += 1
        #expect(LedgerRules.plan(.payout(otherNonce), side: .payee, prior: [], at: 0) == .refuse("conditional voucher is not the payout's final voucher"))
        var slots = p
        slots.claim!.preimages.append(nil)
        #expect(LedgerRules.plan(.payout(slots), side: .payee, prior: [], at: 0)
                == .refuse("conditional claim shows \(p.claim!.voucher.locks.count + 1) preimage slots for \(p.claim!.voucher.locks.count) locks"))
    }

    /// Through a backend: MemoryLedger applies the same rule at its registration time.
    @Test func theMemoryLedgerPaysTheClaimAtRegistration() throws {
        let (_, base, claims) = try #require(try Self.payouts().first)
        let late = try #require(claims.first { $0.description.contains("too late") })
        let p = try Self.withPreimages(base, late)
        let ledger = MemoryLedger()
        try ledger.fund(p.payer, asset: "USDC", amount: p.deposit)
        _ = ledger.submitNow(.lockDeposit(DepositLock(channelID: p.channelID, payer: p.payer, asset: "USDC", amount: p.deposit)), side: .payer, now: 0)
        let events = ledger.submitNow(.payout(p), side: .payer, now: late.at)
        #expect(events.last.map { if case .confirmed = $0 { true } else { false } } == true)
        #expect(ledger.balance(of: Self.payee, asset: "USDC") == (try Self.amount(late.claimable)))
        #expect(ledger.balance(of: p.payer, asset: "USDC") == p.deposit - (try Self.amount(late.claimable)))
    }
}
