import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Specs/vectors/http402.json: macaroons minted by pymacaroons and vouchers signed by eth-account
/// (scripts/vectors/gen_http402_vectors.py), replayed through the Swift code.
@Suite struct VectorTests {
    enum Expect: Decodable, Equatable {
        case ok, code(UInt16)
        /// Specs/vectors/a2a.json: the payment is handed to verification.
        case pay
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(UInt16.self) { self = .code(n) } else {
                switch try c.decode(String.self) {
                case "ok": self = .ok
                case "pay": self = .pay
                default: throw DecodingError.dataCorruptedError(in: c, debugDescription: "expect")
                }
            }
        }
    }
    struct MacaroonVector: Decodable {
        let description: String, root_key: String, location: String, identifier: String
        let caveats: [String], signature: String, serialized_hex: String, base64url: String
    }
    struct L402Case: Decodable {
        let description: String, root_key: String, authorization: String, service: String
        let capability: String?, now: UInt64, expect: Expect
    }
    struct Channel: Decodable {
        let channel_id: String, payer: String, payee: String, asset: String, decimals: UInt8, chain_id: UInt64
        let verifying_contract: String, deposit: String, latest_nonce: UInt64, latest_amount: String
    }
    struct Requirements: Decodable { let amount: String; let payTo: String }
    struct ChannelCase: Decodable {
        let description: String, header: String, value: String, expect: Expect
        let increment: String?, pay_to: String?
    }
    struct File: Decodable {
        let macaroons: [MacaroonVector], l402: [L402Case], channel: Channel, requirements: Requirements
        let channel_cases: [ChannelCase]
    }

    let file: File
    init() throws { file = try TestVectors.load(File.self, spec: "http402.json") }

    @Test func swiftMintsTheSameBytesAsPymacaroons() throws {
        #expect(file.macaroons.count >= 3)
        for v in file.macaroons {
            let root = try #require([UInt8](hex: v.root_key))
            var m = Macaroon(rootKey: root, identifier: try #require([UInt8](hex: v.identifier)), location: v.location)
            for c in v.caveats { m.addFirstPartyCaveat(c) }
            #expect(m.signature.hexString == v.signature, "\(v.description)")
            #expect(m.serialized().hexString == v.serialized_hex, "\(v.description)")
            let parsed = try Macaroon(base64: v.base64url)
            #expect(parsed == m)
            try parsed.verifySignature(rootKey: root)
        }
    }

    @Test func l402Cases() throws {
        #expect(file.l402.count >= 10)
        for c in file.l402 {
            let result = refusal { () throws(Pay402Error) in
                guard let credential = try L402Credential(authorization: c.authorization) else {
                    throw Pay402Error(.paymentRequired, "not L402")
                }
                return try L402Verifier.verify(credential, rootKey: [UInt8](hex: c.root_key)!, service: c.service,
                                               capability: c.capability, nowUnixSeconds: c.now)
            }
            #expect(result.map { Expect.code($0.rawValue) } ?? .ok == c.expect, "\(c.description)")
        }
    }

    @Test func channelCases() throws {
        let ch = file.channel
        let view = ChannelView(
            channelID: try ChannelID(hex: ch.channel_id), payer: try #require(EthereumAddress(string: ch.payer)),
            payee: try #require(EthereumAddress(string: ch.payee)), asset: try Asset(id: ch.asset, decimals: ch.decimals),
            domain: SigningDomain(chainID: ch.chain_id, verifyingContract: try #require(EthereumAddress(string: ch.verifying_contract))),
            acceptsPayments: true, latestNonce: ch.latest_nonce, latestAmount: try Amount(decimal: ch.latest_amount).atomicUnits,
            limit: try Amount(decimal: ch.deposit).atomicUnits)
        #expect(file.channel_cases.count >= 20)
        for c in file.channel_cases {
            let payTo = try #require(EthereumAddress(string: c.pay_to ?? file.requirements.payTo))
            let requirements = PaymentRequirements.channel(
                price: try Amount(decimal: file.requirements.amount).atomicUnits, asset: ch.asset, decimals: ch.decimals,
                unit: "call", payee: payTo, chainID: ch.chain_id, verifyingContract: view.domain.verifyingContract!,
                resource: "http://127.0.0.1:8402/svc/search")
            var accepted: AcceptedVoucher?
            let result = refusal { () throws(Pay402Error) in
                guard case .channel(let proof)? = try PaymentProof.parse(headers: [HTTPHeaderField(c.header, c.value)]) else {
                    throw Pay402Error(.paymentRequired, "no proof")
                }
                accepted = try PaymentVerifier.verify(proof, requirements: requirements, channel: proof.voucher.channelID == view.channelID ? view : nil)
            }
            #expect(result.map { Expect.code($0.rawValue) } ?? .ok == c.expect, "\(c.description): \(String(describing: result))")
            if let increment = c.increment { #expect(accepted.map { String($0.increment) } == increment, "\(c.description)") }
        }
    }
}
