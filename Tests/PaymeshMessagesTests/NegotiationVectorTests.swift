import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Specs/vectors/negotiation.json (eth-account and Python msgpack, scripts/vectors/gen_negotiation_vectors.py):
/// the `NegotiationStep` and `SLAViolation` digests and signatures, and signed NEGOTIATE_* frames.
@Suite("Specs/vectors/negotiation.json")
struct NegotiationVectorTests {
    struct File: Decodable {
        var steps: [Step]
        var frames: [Frame]
        var violations: [Violation]
    }

    struct Terms: Decodable {
        var negotiation_id, buyer, seller, service, price, unit, asset, deposit: String
        var decimals: UInt8
        var latency_p99_ms: UInt32
        var error_rate_bps: UInt16
        var term: UInt32
        var expires_at: UInt64
    }

    struct Step: Decodable {
        var description: String
        var step: UInt64
        var round: UInt32
        var terms: Terms
        var offer_signature: String?
        var timestamp: UInt64
        var type_hash, struct_hash, digest, private_key, address, signature: String
    }

    struct Frame: Decodable {
        var description: String
        var type: UInt64
        var frame_hex: String
    }

    struct Statement: Decodable {
        var negotiation_id, seller, buyer, service, agreement_hash: String
        var metric: UInt8
        var agreed, measured, samples: UInt32
        var window_start, window_end, sequence: UInt64
    }

    struct Violation: Decodable {
        var description: String
        var statement: Statement
        var type_hash, struct_hash, digest, private_key, signature: String
    }

    static func bytes(_ hex: String) throws -> [UInt8] { try #require([UInt8](hex: hex)) }
    static func address(_ hex: String) throws -> EthereumAddress { try #require(EthereumAddress(string: "0x" + hex)) }
    static func key(_ hex: String) throws -> IdentityKey { IdentityKey(privateKey: try .init(rawRepresentation: try bytes(hex))) }

    static func terms(_ t: Terms) throws -> NegotiationTerms {
        NegotiationTerms(negotiationID: try NegotiationID(hex: t.negotiation_id), buyer: try address(t.buyer), seller: try address(t.seller),
                         service: t.service, price: try Amount(decimal: t.price), unit: t.unit, asset: try Asset(id: t.asset, decimals: t.decimals),
                         deposit: try Amount(decimal: t.deposit), latencyP99Millis: t.latency_p99_ms, errorRateBasisPoints: t.error_rate_bps,
                         termSeconds: t.term, expiresAt: t.expires_at)
    }

    let file: File
    init() throws { file = try TestVectors.load(File.self, spec: "negotiation.json") }

    @Test func stepsHashSignAndVerifyAsEthAccountDoes() throws {
        #expect(file.steps.count == 4)
        for v in file.steps {
            let t = try Self.terms(v.terms)
            let step = try #require(MessageType(rawValue: v.step))
            let offer = try v.offer_signature.map { try Signature65(hex: $0) }
            #expect(NegotiationTerms.eip712TypeHash == (try Self.bytes(v.type_hash)), "\(v.description)")
            #expect(t.structHash(step: step, round: v.round, offerSignature: offer, timestamp: v.timestamp) == (try Self.bytes(v.struct_hash)),
                    "\(v.description)")
            #expect(t.signingDigest(step: step, round: v.round, offerSignature: offer, timestamp: v.timestamp) == (try Self.bytes(v.digest)))
            let key = try Self.key(v.private_key)
            #expect(key.address == (try Self.address(v.address)))
            let signature = try t.sign(step: step, round: v.round, offerSignature: offer, timestamp: v.timestamp, with: key)
            #expect(signature == (try Signature65(hex: v.signature)), "RFC 6979: byte for byte, \(v.description)")
            try t.verify(signature, step: step, round: v.round, offerSignature: offer, timestamp: v.timestamp, signer: key.address)
            #expect(throws: MessageError.self) {
                try t.verify(signature, step: step, round: v.round + 1, offerSignature: offer, timestamp: v.timestamp, signer: key.address)
            }
        }
    }

    @Test func signedFramesDecodeAndReencodeByteForByte() throws {
        for f in file.frames {
            let bytes = try Self.bytes(f.frame_hex)
            var codec = PaymentStreamCodec()
            codec.feed(bytes)
            let message = try #require(try codec.nextMessage(), "\(f.description)")
            #expect(message.type.rawValue == f.type)
            #expect(try PaymentFrame.encode(message) == bytes, "\(f.description)")
        }
        // The proposal's frame carries the signature of the first step vector, over its terms.
        var codec = PaymentStreamCodec()
        codec.feed(try Self.bytes(file.frames[0].frame_hex))
        guard case .negotiatePropose(let p)? = try codec.nextMessage() else { Issue.record("not a proposal"); return }
        let t = p.terms(buyer: try Self.address(file.steps[0].terms.buyer), seller: try Self.address(file.steps[0].terms.seller))
        #expect(t == (try Self.terms(file.steps[0].terms)))
        try t.verify(try #require(p.signature), step: .negotiatePropose, round: 0, offerSignature: nil, timestamp: p.timestamp, signer: t.buyer)
    }

    @Test func violationStatementsHashAndSignAsEthAccountDoes() throws {
        for v in file.violations {
            let s = v.statement
            let statement = SLAViolationStatement(
                negotiationID: try NegotiationID(hex: s.negotiation_id), seller: try Self.address(s.seller), buyer: try Self.address(s.buyer),
                service: s.service, metric: try #require(.init(rawValue: s.metric)), agreed: s.agreed, measured: s.measured, samples: s.samples,
                windowStart: s.window_start, windowEnd: s.window_end, sequence: s.sequence, agreementHash: try Self.bytes(s.agreement_hash))
            #expect(SLAViolationStatement.eip712TypeHash == (try Self.bytes(v.type_hash)))
            #expect(statement.structHash() == (try Self.bytes(v.struct_hash)))
            #expect(statement.signingDigest() == (try Self.bytes(v.digest)))
            let signature = try statement.sign(with: try Self.key(v.private_key))
            #expect(signature == (try Signature65(hex: v.signature)))
            try statement.verify(signature)
            // The hash names the agreement of the vectors' proposal and accept.
            let hash = SLAViolationStatement.agreementHash(offerSignature: try Signature65(hex: file.steps[0].signature),
                                                            acceptSignature: try Signature65(hex: file.steps[2].signature))
            #expect(hash == (try Self.bytes(s.agreement_hash)))
        }
    }
}
