import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshTestSupport
import Testing

/// The negotiation machine (Specs/negotiation.md §2–§5): two books, a buyer and a seller, passing
/// the messages they send each other; hostile steps first.
@Suite("Negotiation book (sans-IO, signed steps)")
struct NegotiationBookTests {
    static func key(_ byte: UInt8) -> IdentityKey {
        IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: byte, count: 32)))
    }
    static let usdc = try! Asset(id: "USDC", decimals: 6)
    static let t0: UInt64 = 1_767_225_600_000
    let buyerKey = key(0x11), sellerKey = key(0x22), strangerKey = key(0x33)

    func terms(id byte: UInt8 = 1, price: UInt128 = 100, deposit: UInt128 = 5_000, latency: UInt32 = 200, errorBps: UInt16 = 100,
               timeout: UInt64 = 60) -> NegotiationTerms {
        NegotiationTerms(negotiationID: try! NegotiationID([UInt8](repeating: byte, count: 16)), buyer: buyerKey.address,
                         seller: sellerKey.address, service: "echo", price: Amount(price), unit: "call", asset: Self.usdc,
                         deposit: Amount(deposit), latencyP99Millis: latency, errorRateBasisPoints: errorBps, termSeconds: 3_600,
                         expiresAt: Self.t0 + timeout * 1_000)
    }

    static func seller(floor: UInt128 = 150, quote: UInt128 = 200, automatic: Bool = true) -> SellerTerms {
        SellerTerms(unit: "call", asset: usdc, floor: floor, quote: quote, minDeposit: 1_000, minLatencyP99Millis: 250,
                    minErrorRateBasisPoints: 50, maxTermSeconds: 86_400, automatic: automatic)
    }

    static func sent(_ actions: [NegotiationAction]) -> [Message] {
        actions.compactMap { if case .send(let m, _) = $0 { m } else { nil } }
    }

    static func errorCode(_ actions: [NegotiationAction]) -> PaymeshErrorCode? {
        for case .send(.error(let e), _) in actions { return e.code }
        return nil
    }

    static func stores(_ actions: [NegotiationAction]) -> [Agreement] {
        actions.compactMap { if case .store(let a) = $0 { a } else { nil } }
    }

    /// A proposal the seller counters (price below its floor, SLA tighter than it commits to), the
    /// buyer counters again within its floor, the seller accepts: both hold the same agreement,
    /// whose two signatures verify.
    @Test func proposeCounterCounterAccept() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let propose = try buyer.propose(terms(), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)
        let p = try #require(Self.sent(propose).first)
        let counter = seller.onMessage(p, from: buyerKey.address, now: Self.t0 + 10) { _ in Self.seller() }
        let c = try #require(Self.sent(counter).first)
        guard case .negotiateCounter(let cm) = c else { Issue.record("expected a counter, got \(c)"); return }
        #expect(cm.round == 1 && cm.counterPrice == Amount(200) && cm.latencyP99Millis == 250 && cm.errorRateBasisPoints == 100)
        // The buyer's limits do not cover 200: the counter waits for its operator.
        let seen = buyer.onMessage(c, from: sellerKey.address, now: Self.t0 + 20) { _ in nil }
        #expect(Self.sent(seen).isEmpty)
        let n = try #require(buyer.negotiation(cm.negotiationID))
        #expect(n.ourTurn && n.round == 1 && n.terms.price == Amount(200))
        var mine = n.terms
        mine.price = Amount(160)
        let second = try buyer.counter(n.id, with: mine, now: Self.t0 + 30)
        let accepted = seller.onMessage(try #require(Self.sent(second).first), from: buyerKey.address, now: Self.t0 + 40) { _ in Self.seller() }
        let sellerAgreement = try #require(Self.stores(accepted).first)
        guard case .negotiateAccept(let am)? = Self.sent(accepted).first else { Issue.record("expected an accept"); return }
        #expect(am.round == 2)
        let done = buyer.onMessage(.negotiateAccept(am), from: sellerKey.address, now: Self.t0 + 50) { _ in nil }
        let buyerAgreement = try #require(Self.stores(done).first)
        #expect(buyerAgreement == sellerAgreement)
        #expect(buyerAgreement.terms.price == Amount(160) && buyerAgreement.terms.latencyP99Millis == 250)
        #expect(buyerAgreement.offeredBy == buyerKey.address && buyerAgreement.acceptedBy == sellerKey.address)
        try buyerAgreement.verify()
        #expect(buyer.negotiation(n.id)?.status == .accepted && seller.negotiation(n.id)?.status == .accepted)
        // The agreement survives its JSON form and still verifies; a changed price does not.
        var record = AgreementRecord(buyerAgreement)
        try record.agreement().verify()
        record.price = "150"
        #expect(throws: MessageError.self) { try record.agreement().verify() }
    }

    @Test func forgedSignatureIsRefusedAndReported() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let p = try #require(Self.sent(try buyer.propose(terms(), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        guard case .negotiatePropose(var forged) = p else { return }
        forged.proposedPrice = Amount(1) // changed after signing
        let out = seller.onMessage(.negotiatePropose(forged), from: buyerKey.address, now: Self.t0) { _ in Self.seller() }
        #expect(Self.errorCode(out) == .invalidSignature)
        #expect(out.contains { if case .misbehaved = $0 { true } else { false } })
        #expect(seller.open.isEmpty)
        // Signed by someone else than the peer that sent it.
        var stranger = NegotiationBook(key: strangerKey)
        var t = terms(id: 2)
        t.buyer = strangerKey.address
        let theirs = try #require(Self.sent(try stranger.propose(t, timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        #expect(Self.errorCode(seller.onMessage(theirs, from: buyerKey.address, now: Self.t0) { _ in Self.seller() }) == .invalidSignature)
        // Unsigned (AgentPay's form).
        guard case .negotiatePropose(var unsigned) = p else { return }
        unsigned.signature = nil
        #expect(Self.errorCode(seller.onMessage(.negotiatePropose(unsigned), from: buyerKey.address, now: Self.t0) { _ in Self.seller() })
                == .negotiationUnsigned)
    }

    @Test func replayedStepsAreRefused() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let p = try #require(Self.sent(try buyer.propose(terms(), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        let counter = try #require(Self.sent(seller.onMessage(p, from: buyerKey.address, now: Self.t0) { _ in Self.seller() }).first)
        // The proposal again: its id is taken.
        #expect(Self.errorCode(seller.onMessage(p, from: buyerKey.address, now: Self.t0 + 1) { _ in Self.seller() }) == .negotiationIDConflict)
        _ = buyer.onMessage(counter, from: sellerKey.address, now: Self.t0 + 2) { _ in nil }
        // The same counter again: out of turn (the offer on the table is now the seller's own).
        #expect(Self.errorCode(buyer.onMessage(counter, from: sellerKey.address, now: Self.t0 + 3) { _ in nil }) == .negotiationOutOfTurn)
        // After the buyer's accept, a replayed accept to the seller finds the negotiation closed.
        let id = terms().negotiationID
        let accept = try buyer.accept(id, now: Self.t0 + 4)
        let a = try #require(Self.sent(accept).first)
        #expect(Self.stores(seller.onMessage(a, from: buyerKey.address, now: Self.t0 + 5) { _ in Self.seller() }).count == 1)
        #expect(Self.errorCode(seller.onMessage(a, from: buyerKey.address, now: Self.t0 + 6) { _ in Self.seller() }) == .negotiationOutOfTurn)
        // A step of this negotiation from a third peer: not found (nothing revealed).
        #expect(Self.errorCode(seller.onMessage(a, from: strangerKey.address, now: Self.t0 + 7) { _ in Self.seller() }) == .negotiationNotFound)
    }

    @Test func counterAfterExpiryIsRefusedAndTheNegotiationExpires() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let p = try #require(Self.sent(try buyer.propose(terms(timeout: 10), timeoutSeconds: 10, limits: BuyerLimits(), now: Self.t0)).first)
        let counter = try #require(Self.sent(seller.onMessage(p, from: buyerKey.address, now: Self.t0) { _ in Self.seller() }).first)
        let late = Self.t0 + 10_000
        #expect(Self.errorCode(buyer.onMessage(counter, from: sellerKey.address, now: late) { _ in nil }) == .negotiationExpired)
        #expect(buyer.nextDeadline == Self.t0 + 10_000)
        let ticked = buyer.onTick(now: late)
        #expect(ticked == [.event(.negotiation(terms().negotiationID, status: .expired, round: 0, ourTurn: false))])
        #expect(throws: NodeError.self) { _ = try buyer.accept(terms().negotiationID, now: late) }
        // An expired proposal is refused on arrival.
        var other = NegotiationBook(key: buyerKey)
        let old = try #require(Self.sent(try other.propose(terms(id: 9, timeout: 1), timeoutSeconds: 1, limits: BuyerLimits(), now: Self.t0)).first)
        #expect(Self.errorCode(seller.onMessage(old, from: buyerKey.address, now: Self.t0 + 1_000) { _ in Self.seller() }) == .negotiationExpired)
    }

    @Test func acceptOfTermsNeverProposedIsRefused() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let p = try #require(Self.sent(try buyer.propose(terms(), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        _ = seller.onMessage(p, from: buyerKey.address, now: Self.t0) { _ in Self.seller(automatic: false) }
        let id = terms().negotiationID
        // The seller signs an accept of other terms (a lower deposit the buyer never offered).
        var other = terms()
        other.deposit = Amount(1)
        guard case .negotiatePropose(let pm) = p, let offer = pm.signature else { return }
        let sig = try other.sign(step: .negotiateAccept, round: 0, offerSignature: offer, timestamp: Self.t0 + 1, with: sellerKey)
        let bogus = Message.negotiateAccept(NegotiateAccept(negotiationID: id, timestamp: Self.t0 + 1, round: 0, signature: sig))
        #expect(Self.errorCode(buyer.onMessage(bogus, from: sellerKey.address, now: Self.t0 + 1) { _ in nil }) == .invalidSignature)
        // An accept of a round that was never offered.
        let sig5 = try terms().sign(step: .negotiateAccept, round: 5, offerSignature: offer, timestamp: Self.t0 + 2, with: sellerKey)
        let round5 = Message.negotiateAccept(NegotiateAccept(negotiationID: id, timestamp: Self.t0 + 2, round: 5, signature: sig5))
        #expect(Self.errorCode(buyer.onMessage(round5, from: sellerKey.address, now: Self.t0 + 2) { _ in nil }) == .negotiationOutOfTurn)
        // The proposer may not accept its own offer.
        #expect(throws: NodeError.self) { _ = try buyer.accept(id, now: Self.t0 + 3) }
        #expect(buyer.negotiation(id)?.status == .open)
        // The real accept still works.
        let real = try seller.accept(id, now: Self.t0 + 4)
        #expect(Self.stores(buyer.onMessage(try #require(Self.sent(real).first), from: sellerKey.address, now: Self.t0 + 5) { _ in nil }).count == 1)
    }

    @Test func floodsAreBounded() throws {
        var seller = NegotiationBook(key: sellerKey)
        var buyer = NegotiationBook(key: buyerKey)
        var codes: [PaymeshErrorCode?] = []
        for i in 0..<(NegotiationBook.maxOpenPerPeer + 4) {
            var t = terms(id: UInt8(i + 1))
            t.negotiationID = try NegotiationID([UInt8](repeating: UInt8(i + 1), count: 15) + [0xee])
            buyer = NegotiationBook(key: buyerKey) // the sender keeps no limit of its own here
            let p = try #require(Self.sent(try buyer.propose(t, timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
            codes.append(Self.errorCode(seller.onMessage(p, from: buyerKey.address, now: Self.t0) { _ in Self.seller(automatic: false) }))
        }
        #expect(codes.prefix(NegotiationBook.maxOpenPerPeer).allSatisfy { $0 == nil })
        #expect(codes.suffix(4).allSatisfy { $0 == .negotiationLimit })
        #expect(seller.open.count == NegotiationBook.maxOpenPerPeer)
        // The proposer's own side is bounded too.
        buyer = NegotiationBook(key: buyerKey)
        for i in 0..<NegotiationBook.maxOpenPerPeer {
            var t = terms()
            t.negotiationID = try NegotiationID([UInt8](repeating: UInt8(i + 1), count: 15) + [0xdd])
            _ = try buyer.propose(t, timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)
        }
        #expect(throws: NodeError.self) { _ = try buyer.propose(terms(id: 0x77), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0) }
        // Counters are bounded: a seller that never moves exhausts the rounds and rejects.
        var b = NegotiationBook(key: buyerKey), s = NegotiationBook(key: sellerKey)
        var m = try #require(Self.sent(try b.propose(terms(id: 0x55, price: 1), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        var rejected = false
        for step in 0..<40 where !rejected {
            let answer = s.onMessage(m, from: buyerKey.address, now: Self.t0 + UInt64(step)) { _ in Self.seller() }
            guard let next = Self.sent(answer).first else { break }
            if case .negotiateReject = next { rejected = true; break }
            _ = b.onMessage(next, from: sellerKey.address, now: Self.t0 + UInt64(step)) { _ in nil }
            var low = b.negotiation(terms(id: 0x55).negotiationID)!.terms
            low.price = Amount(1)
            guard let again = try? b.counter(low.negotiationID, with: low, now: Self.t0 + UInt64(step)) else { break }
            m = try #require(Self.sent(again).first)
        }
        #expect(rejected || b.negotiation(terms(id: 0x55).negotiationID)?.round == NegotiationBook.maxRounds)
    }

    @Test func unknownServiceIsRejectedWithSignedReject() throws {
        var buyer = NegotiationBook(key: buyerKey), seller = NegotiationBook(key: sellerKey)
        let p = try #require(Self.sent(try buyer.propose(terms(), timeoutSeconds: 60, limits: BuyerLimits(), now: Self.t0)).first)
        let out = seller.onMessage(p, from: buyerKey.address, now: Self.t0) { _ in nil }
        guard case .negotiateReject(let r)? = Self.sent(out).first else { Issue.record("expected a reject"); return }
        #expect(r.reason.contains("does not sell"))
        _ = buyer.onMessage(.negotiateReject(r), from: sellerKey.address, now: Self.t0 + 1) { _ in nil }
        #expect(buyer.negotiation(r.negotiationID)?.status == .rejected)
        #expect(buyer.negotiation(r.negotiationID)?.reason == r.reason)
    }
}
