import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshTestSupport
import Testing

@Suite("Dynamic prices and SLA measurements (integer math, bounded tables)")
struct PricingAndSLATests {
    @Test func priceMovesWithLoadAndReputationWithinBounds() throws {
        let p = try ServicePolicy(minPrice: 100, maxPrice: 300, inFlightTarget: 10, rateTarget: 50, reputationDiscountBps: 2_000)
        // Idle: the listed price, clamped into the bounds.
        #expect(PriceModel.quote(listed: 200, policy: p, inFlight: 0, perSecond: 0, reputationBps: 0) == 200)
        #expect(PriceModel.quote(listed: 50, policy: p, inFlight: 0, perSecond: 0, reputationBps: 0) == 100)
        #expect(PriceModel.quote(listed: 900, policy: p, inFlight: 0, perSecond: 0, reputationBps: 0) == 300)
        // Half the in-flight target: half way to the maximum; the rate counts the same; full load caps.
        #expect(PriceModel.quote(listed: 200, policy: p, inFlight: 5, perSecond: 0, reputationBps: 0) == 250)
        #expect(PriceModel.quote(listed: 200, policy: p, inFlight: 1, perSecond: 25, reputationBps: 0) == 250)
        #expect(PriceModel.quote(listed: 200, policy: p, inFlight: 1_000, perSecond: 0, reputationBps: 0) == 300)
        // Full reputation: 20 % off, never below the minimum.
        #expect(PriceModel.quote(listed: 200, policy: p, inFlight: 0, perSecond: 0, reputationBps: 10_000) == 160)
        #expect(PriceModel.quote(listed: 100, policy: p, inFlight: 0, perSecond: 0, reputationBps: 10_000) == 100)
        // Amounts near 2^128 do not overflow.
        let huge = try ServicePolicy(minPrice: 1, maxPrice: UInt128.max, reputationDiscountBps: 10_000)
        #expect(PriceModel.quote(listed: UInt128.max / 2, policy: huge, inFlight: 1_000, perSecond: 0, reputationBps: 0) == UInt128.max)
        #expect(PriceModel.quote(listed: UInt128.max, policy: huge, inFlight: 0, perSecond: 0, reputationBps: 10_000) == 1)
        #expect(throws: NodeError.self) { _ = try ServicePolicy(minPrice: 5, maxPrice: 4) }
        #expect(throws: NodeError.self) { _ = try ServicePolicy(minPrice: 0, maxPrice: 4) }
    }

    static let client = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x44, count: 32))).address

    func terms(latency: UInt32, errorBps: UInt16) -> NegotiationTerms {
        NegotiationTerms(negotiationID: try! NegotiationID([UInt8](repeating: 1, count: 16)), buyer: Self.client, seller: Self.client,
                         service: "echo", price: Amount(1), unit: "call", asset: try! Asset(id: "USDC", decimals: 6), deposit: Amount(1),
                         latencyP99Millis: latency, errorRateBasisPoints: errorBps, termSeconds: 60, expiresAt: 0)
    }

    @Test func fullWindowsAreCheckedAgainstAgreedTerms() {
        var m = SLAMonitor()
        let t = terms(latency: 100, errorBps: 500)
        // 99 fast requests and one slow one: the p99 of 100 is the 99th smallest, still fast.
        var breaches: [SLAMonitor.Breach] = []
        for i in 0..<100 {
            if let b = m.record(client: Self.client, service: "echo", latencyMillis: i == 50 ? 5_000 : 20, failed: false, paid: true,
                                now: UInt64(i), terms: t) { breaches.append(b) }
        }
        #expect(breaches.isEmpty)
        // Two slow ones in the next window: p99 is slow, a latency breach.
        for i in 0..<100 {
            if let b = m.record(client: Self.client, service: "echo", latencyMillis: i < 2 ? 900 : 20, failed: false, paid: true,
                                now: UInt64(100 + i), terms: t) { breaches.append(b) }
        }
        #expect(breaches == [SLAMonitor.Breach(metric: .latencyP99, agreed: 100, measured: 900, samples: 100, windowStart: 100, windowEnd: 199)])
        // Six failures in a hundred: 600 bps over the agreed 500.
        for i in 0..<100 {
            if let b = m.record(client: Self.client, service: "echo", latencyMillis: 20, failed: i < 6, paid: true, now: UInt64(200 + i), terms: t) {
                breaches.append(b)
            }
        }
        #expect(breaches.last == SLAMonitor.Breach(metric: .errorRate, agreed: 500, measured: 600, samples: 100, windowStart: 200, windowEnd: 299))
        #expect(m.reputationBps(Self.client) == 10_000)
        #expect(m.reputationBps(nil) == 0)
    }

    @Test func tableIsBounded() {
        var m = SLAMonitor()
        for i in 0..<(SLAMonitor.maxEntries + 10) {
            _ = m.record(client: nil, service: "s\(i)", latencyMillis: 1, failed: false, paid: true, now: UInt64(i), terms: nil)
        }
        #expect(m.stats.count == SLAMonitor.maxEntries)
        #expect(m.stats[SLAMonitor.Key(client: nil, service: "s0")] == nil, "the least recently seen goes first")
    }

    @Test func violationStatementIsEvidenceAThirdPartyChecks() throws {
        let buyerKey = IdentityKey(privateKey: try .init(rawRepresentation: [UInt8](repeating: 0x11, count: 32)))
        let sellerKey = IdentityKey(privateKey: try .init(rawRepresentation: [UInt8](repeating: 0x22, count: 32)))
        var t = terms(latency: 100, errorBps: 500)
        t.buyer = buyerKey.address
        t.seller = sellerKey.address
        let offer = try t.sign(step: .negotiatePropose, round: 0, offerSignature: nil, timestamp: 10, with: buyerKey)
        let accept = try t.sign(step: .negotiateAccept, round: 0, offerSignature: offer, timestamp: 11, with: sellerKey)
        let agreement = Agreement(terms: t, round: 0, offerKind: .negotiatePropose, offerTimestamp: 10, offerSignature: offer,
                                  offeredBy: buyerKey.address, acceptTimestamp: 11, acceptSignature: accept, acceptedBy: sellerKey.address)
        try agreement.verify()
        let statement = SLAViolationStatement(negotiationID: t.negotiationID, seller: sellerKey.address, buyer: buyerKey.address, service: "echo",
                                              metric: .latencyP99, agreed: 100, measured: 900, samples: 100, windowStart: 1, windowEnd: 2,
                                              sequence: 1, agreementHash: SLAViolationStatement.agreementHash(offerSignature: offer, acceptSignature: accept))
        let record = SLAViolationRecord(statement: statement, signature: try statement.sign(with: sellerKey), agreement: agreement)
        try record.verify()
        var inflated = record
        inflated.measured = 901
        #expect(throws: NodeError.self) { try inflated.verify() }
        var notABreach = record
        notABreach.measured = 50
        #expect(throws: NodeError.self) { try notABreach.verify() }
        let byBuyer = SLAViolationRecord(statement: statement, signature: try Signature65.signForTests(statement.signingDigest(), buyerKey),
                                         agreement: agreement)
        #expect(throws: NodeError.self) { try byBuyer.verify() }
    }
}

extension Signature65 {
    /// A signature of `digest` by any key (to forge a statement in a test).
    static func signForTests(_ digest: [UInt8], _ key: IdentityKey) throws -> Signature65 { try Signature65(try key.sign(digest32: digest)) }
}
