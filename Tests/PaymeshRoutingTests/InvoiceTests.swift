import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import PaymeshTestSupport
import Testing

@Suite("Invoices")
struct InvoiceTests {
    static let key = IdentityKey(privateKey: try! Secp256k1.PrivateKey(rawRepresentation: SHA256.hash([42])))
    static let other = IdentityKey(privateKey: try! Secp256k1.PrivateKey(rawRepresentation: SHA256.hash([43])))

    static func invoice(amount: Amount? = Amount(1_000_000), memo: String = "coffee", hints: [Invoice.RouteHint] = []) throws -> Invoice {
        try Invoice(payee: key.address, paymentHash: try Hash32(SHA256.hash([7])), amount: amount, asset: try Asset(id: "USDC", decimals: 6),
                    memo: memo, created: t0, expiryMillis: 3_600_000, minFinalExpiryMillis: 600_000, routeHints: hints)
    }

    @Test("round trip: encode, decode, same invoice; uppercase accepted")
    func roundTrip() throws {
        let hint = try Invoice.RouteHint(nodeID: node(3), channelID: channel(9), feeBase: Amount(1), feePPM: 10, expiryDeltaMillis: 60_000,
                                         htlcMinimum: .zero, htlcMaximum: Amount(10_000))
        for invoice in [try Self.invoice(), try Self.invoice(amount: nil, memo: ""), try Self.invoice(memo: "ünïcode ☕", hints: [hint, hint])] {
            let text = try invoice.encoded(signedBy: Self.key)
            #expect(text.hasPrefix("pminv1"))
            #expect(try Invoice.decode(text, now: t0) == invoice)
            #expect(try Invoice.decode(text.uppercased(), now: t0 + 3_599_999) == invoice)
        }
        #expect(throws: RoutingError.invoiceMalformed("signing key is not the payee's")) { try Self.invoice().encoded(signedBy: Self.other) }
    }

    @Test("refusals: wrong prefix, too long, bad signature, expired, malformed")
    func refusals() throws {
        let text = try Self.invoice().encoded(signedBy: Self.key)
        func kind(_ s: String, now: UInt64 = t0) -> String? {
            failure { try Invoice.decode(s, now: now) }?.kind
        }
        #expect(kind("lnbc" + text.dropFirst(6)) == "invoice_wrong_prefix")
        #expect(kind("") == "invoice_wrong_prefix")
        #expect(kind(text + String(repeating: "a", count: Invoice.maxStringLength - text.count + 1)) == "invoice_too_long")
        #expect(kind(text, now: t0 + 3_600_000) == "invoice_expired")
        #expect(kind(String(text.dropLast(8))) == "invoice_malformed")
        // Every single-character change is refused (never a crash, never accepted).
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var chars = Array(text)
        for i in stride(from: 6, to: chars.count, by: 7) {
            let original = chars[i]
            chars[i] = alphabet[(alphabet.firstIndex(of: original)! + 1) % 32]
            #expect(kind(String(chars)) != nil, "position \(i)")
            chars[i] = original
        }
        // The payee's field names a key that did not sign: bad signature.
        var forged = try Self.invoice()
        forged.payee = Self.other.address
        let body = forged.body()
        let signature = try Self.key.personalSign(message: Invoice.signingTag + body)
        #expect(kind(Invoice.prefix + Base32.encode(body + signature)) == "invoice_bad_signature")
        #expect(RoutingError.invoiceBadSignature().wireCode == .malformedMessage)
    }

    @Test("base32 is strict and canonical")
    func base32() {
        for n in 0..<12 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base32.encode(bytes)
            #expect(Base32.decode(text[...].utf8) == bytes)
        }
        #expect(Base32.encode(Array("foobar".utf8)) == "mzxw6ytboi") // RFC 4648 §10, lowercased, no padding
        #expect(Base32.decode("mzxw6ytboj"[...].utf8) == nil) // non-zero trailing bits
        #expect(Base32.decode("mzxw6ytbo"[...].utf8) == nil) // impossible length
        #expect(Base32.decode("mzxw6ytbo="[...].utf8) == nil)
    }

    struct Vectors: Decodable {
        struct Valid: Decodable {
            struct Hint: Decodable {
                let node: String, channel_id: String, fee_base: String, fee_ppm: UInt64, expiry_delta: UInt64, htlc_min: String, htlc_max: String
            }
            let description: String, private_key: String, payee: String, payment_hash: String, amount: String?
            let asset: String, decimals: UInt8, memo: String, created: UInt64, expiry: UInt64, min_final_expiry: UInt64
            let route_hints: [Hint], body_hex: String, signing_digest: String, signature: String, invoice: String, now: UInt64
        }
        struct Invalid: Decodable { let description: String, invoice: String, now: UInt64, expected: String }
        let valid: [Valid]
        let invalid: [Invalid]
    }

    @Test("Specs/vectors/invoice.json (made with eth-account): decode, re-encode byte for byte, every refusal")
    func vectors() throws {
        let v = try TestVectors.load(Vectors.self, spec: "invoice.json")
        #expect(v.valid.count == 3)
        for c in v.valid {
            let key = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: [UInt8](hex: c.private_key)!))
            let hints = try c.route_hints.map { h in
                try Invoice.RouteHint(nodeID: try EthereumAddress(rawRepresentation: [UInt8](hex: h.node)!), channelID: try ChannelID(hex: h.channel_id),
                                      feeBase: try Amount(decimal: h.fee_base), feePPM: h.fee_ppm, expiryDeltaMillis: h.expiry_delta,
                                      htlcMinimum: try Amount(decimal: h.htlc_min), htlcMaximum: try Amount(decimal: h.htlc_max))
            }
            let expected = try Invoice(payee: try EthereumAddress(rawRepresentation: [UInt8](hex: c.payee)!), paymentHash: try Hash32(hex: c.payment_hash),
                                       amount: try c.amount.map { try Amount(decimal: $0) }, asset: try Asset(id: c.asset, decimals: c.decimals),
                                       memo: c.memo, created: c.created, expiryMillis: c.expiry, minFinalExpiryMillis: c.min_final_expiry, routeHints: hints)
            #expect(key.address == expected.payee, "\(c.description)")
            #expect(expected.body() == [UInt8](hex: c.body_hex)!, "\(c.description)")
            #expect(EIP191.personalMessageHash(Invoice.signingTag + expected.body()) == [UInt8](hex: c.signing_digest)!)
            #expect(try Invoice.decode(c.invoice, now: c.now) == expected, "\(c.description)")
            #expect(try expected.encoded(signedBy: key) == c.invoice, "\(c.description)")
        }
        #expect(v.invalid.count >= 14)
        for c in v.invalid {
            let error = failure { try Invoice.decode(c.invoice, now: c.now) }
            #expect(error?.kind == c.expected, "\(c.description): \(String(describing: error))")
        }
    }
}
