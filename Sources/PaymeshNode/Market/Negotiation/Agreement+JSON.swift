import Foundation
public import PaymeshCrypto
public import PaymeshMessages

/// An agreement as JSON (`market.json`, the console, evidence for a third party; Specs/negotiation.md
/// §3.2): addresses as EIP-55 hex, ids and signatures as 0x-hex, amounts as decimal strings.
public struct AgreementRecord: Codable, Sendable, Hashable {
    public var negotiationId: String
    public var buyer: String
    public var seller: String
    public var service: String
    public var price: String
    public var unit: String
    public var asset: String
    public var decimals: UInt8
    public var deposit: String
    public var latencyP99Ms: UInt32
    public var errorRateBps: UInt16
    public var term: UInt32
    public var expiresAt: UInt64
    public var round: UInt32
    /// 9 (NEGOTIATE_PROPOSE) or 10 (NEGOTIATE_COUNTER).
    public var offerStep: UInt8
    public var offerTimestamp: UInt64
    public var offerSignature: String
    public var offeredBy: String
    public var acceptTimestamp: UInt64
    public var acceptSignature: String
    public var acceptedBy: String

    public init(_ a: Agreement) {
        let t = a.terms
        negotiationId = t.negotiationID.description
        buyer = t.buyer.description
        seller = t.seller.description
        service = t.service
        price = t.price.description
        unit = t.unit
        asset = t.asset.id
        decimals = t.asset.decimals
        deposit = t.deposit.description
        latencyP99Ms = t.latencyP99Millis
        errorRateBps = t.errorRateBasisPoints
        term = t.termSeconds
        expiresAt = t.expiresAt
        round = a.round
        offerStep = UInt8(a.offerKind.rawValue)
        offerTimestamp = a.offerTimestamp
        offerSignature = a.offerSignature.description
        offeredBy = a.offeredBy.description
        acceptTimestamp = a.acceptTimestamp
        acceptSignature = a.acceptSignature.description
        acceptedBy = a.acceptedBy.description
    }

    /// The agreement this record describes; throws `NodeError` when a field does not parse.
    /// (Its signatures are checked by `Agreement.verify`.)
    public func agreement() throws(NodeError) -> Agreement {
        do throws(MessageError) {
            guard let buyer = EthereumAddress(string: buyer), let seller = EthereumAddress(string: seller),
                  let offeredBy = EthereumAddress(string: offeredBy), let acceptedBy = EthereumAddress(string: acceptedBy),
                  let kind = MessageType(rawValue: UInt64(offerStep)) else {
                throw MessageError(code: .malformedMessage, detail: "an address or the offer step does not parse")
            }
            let terms = NegotiationTerms(negotiationID: try NegotiationID(hex: negotiationId), buyer: buyer, seller: seller, service: service,
                                         price: try Amount(decimal: price), unit: unit, asset: try Asset(id: asset, decimals: decimals),
                                         deposit: try Amount(decimal: deposit), latencyP99Millis: latencyP99Ms, errorRateBasisPoints: errorRateBps,
                                         termSeconds: term, expiresAt: expiresAt)
            return Agreement(terms: terms, round: round, offerKind: kind, offerTimestamp: offerTimestamp,
                             offerSignature: try Signature65(hex: offerSignature), offeredBy: offeredBy, acceptTimestamp: acceptTimestamp,
                             acceptSignature: try Signature65(hex: acceptSignature), acceptedBy: acceptedBy)
        } catch {
            throw .invalidParams("the agreement does not parse: \(error.detail)")
        }
    }
}

/// A recorded SLA violation (`sla-violations.json`, console `sla.violations`; Specs/negotiation.md
/// §7): the seller's signed statement and the agreement it refers to.
public struct SLAViolationRecord: Codable, Sendable, Hashable {
    public var sequence: UInt64
    public var service: String
    public var client: String
    public var metric: String
    public var agreed: UInt32
    public var measured: UInt32
    public var samples: UInt32
    public var windowStart: UInt64
    public var windowEnd: UInt64
    public var agreementHash: String
    public var signature: String
    public var agreement: AgreementRecord

    public init(statement s: SLAViolationStatement, signature: Signature65, agreement: Agreement) {
        sequence = s.sequence
        service = s.service
        client = s.buyer.description
        metric = s.metric.name
        agreed = s.agreed
        measured = s.measured
        samples = s.samples
        windowStart = s.windowStart
        windowEnd = s.windowEnd
        agreementHash = "0x" + s.agreementHash.hexString
        self.signature = signature.description
        self.agreement = AgreementRecord(agreement)
    }

    /// What a third party checks (§7.2): the agreement's two signatures, that the statement refers
    /// to it, that the seller signed the statement, and that the measure breaks the agreed term.
    public func verify() throws(NodeError) {
        let a = try agreement.agreement()
        do { try a.verify() } catch { throw .paymesh(.slaEvidenceInvalid, "the agreement's signatures do not verify: \(error.detail)") }
        guard let metric = [SLAViolationStatement.Metric.latencyP99, .errorRate].first(where: { $0.name == self.metric }) else {
            throw .paymesh(.slaEvidenceInvalid, "unknown metric \(self.metric)")
        }
        let hash = SLAViolationStatement.agreementHash(offerSignature: a.offerSignature, acceptSignature: a.acceptSignature)
        guard "0x" + hash.hexString == agreementHash else { throw .paymesh(.slaEvidenceInvalid, "the statement refers to another agreement") }
        let agreedTerm = metric == .latencyP99 ? a.terms.latencyP99Millis : UInt32(a.terms.errorRateBasisPoints)
        guard agreed == agreedTerm, measured > agreed, client == a.terms.buyer.description, service == a.terms.service else {
            throw .paymesh(.slaEvidenceInvalid, "the statement does not break the agreed \(metric.name)")
        }
        let statement = SLAViolationStatement(negotiationID: a.terms.negotiationID, seller: a.terms.seller, buyer: a.terms.buyer,
                                              service: service, metric: metric, agreed: agreed, measured: measured, samples: samples,
                                              windowStart: windowStart, windowEnd: windowEnd, sequence: sequence, agreementHash: hash)
        do { try statement.verify(try Signature65(hex: signature)) } catch {
            throw .paymesh(.slaEvidenceInvalid, "the statement is not signed by the seller \(a.terms.seller)")
        }
    }
}
