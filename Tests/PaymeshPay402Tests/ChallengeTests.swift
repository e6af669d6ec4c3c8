import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// The 402 answer with every scheme at once (Specs/http402.md §3).
@Suite struct ChallengeTests {
    @Test func everySchemeAndCORSInOneAnswer() throws {
        let challenge = PaymentChallenge(requirements: [Fixture.requirements()], l402: Fixture.l402())
        let headers = challenge.headers
        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        #expect(value("PAYMENT-REQUIRED") == challenge.paymentRequiredHeader)
        #expect(value("WWW-Authenticate")?.hasPrefix("L402 macaroon=\"") == true)
        #expect(value("Paymesh-Error-Code") == "1301")
        #expect(value("Access-Control-Allow-Origin") == "*")
        #expect(value("Access-Control-Expose-Headers")?.contains("PAYMENT-REQUIRED") == true)
        #expect(value("Access-Control-Expose-Headers")?.contains("WWW-Authenticate") == true)

        let body = try #require(try JSONSerialization.jsonObject(with: Data(challenge.body)) as? [String: Any])
        #expect(body["x402Version"] as? Int == 1)
        #expect(body["error"] as? String == "1301 PAYMENT_REQUIRED: payment required")
        let accepts = try #require(body["accepts"] as? [[String: Any]])
        #expect(accepts.first?["maxAmountRequired"] as? String == "250")
        #expect(accepts.first?["payTo"] as? String == Fixture.payeeKey.address.description)
        #expect(accepts.first?["network"] as? String == "eip155:84532")

        let v2Bytes = try #require(Data(base64Encoded: challenge.paymentRequiredHeader))
        let v2 = try #require(try JSONSerialization.jsonObject(with: v2Bytes) as? [String: Any])
        #expect(v2["x402Version"] as? Int == 2)
        let accepts2 = try #require(v2["accepts"] as? [[String: Any]])
        #expect(accepts2.first?["amount"] as? String == "250")
        let extra = try #require(accepts2.first?["extra"] as? [String: Any])
        #expect(extra["chainId"] as? String == "84532" && extra["decimals"] as? Int == 6 && extra["unit"] as? String == "call")
    }

    @Test func aRefusalCarriesItsCode() {
        let refused = PaymentChallenge(requirements: [Fixture.requirements()], error: .replayed("nonce 4 is not above 5"))
        #expect(refused.errorText == "1323 PROOF_REPLAYED: nonce 4 is not above 5")
        #expect(refused.headers.contains(HTTPHeaderField("Paymesh-Error-Code", "1323")))
        #expect(!refused.headers.contains { $0.name == "WWW-Authenticate" })
    }

    @Test func amountsAboveUInt64StayExact() throws {
        let big = UInt128.max
        let challenge = PaymentChallenge(requirements: [Fixture.requirements(price: big)])
        let text = String(decoding: challenge.body, as: UTF8.self)
        #expect(text.contains("\"maxAmountRequired\":\"\(big)\""))
    }

    @Test func receiptHeaderIsASettleResponse() throws {
        let v = Fixture.voucher(nonce: 5, amount: 1_250)
        guard case .channel(let proof)? = try PaymentProof.parse(headers: [ChannelSchemeProof.xPayment(v, paying: Fixture.requirements())]) else {
            Issue.record("no proof"); return
        }
        let accepted = try PaymentVerifier.verify(proof, requirements: Fixture.requirements(), channel: Fixture.channel())
        let header = PaymentReceiptHeader(accepted: accepted).header(x402Version: 1)
        #expect(header.name == "X-PAYMENT-RESPONSE")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(base64Encoded: header.value)!) as? [String: Any])
        #expect(json["success"] as? Bool == true && json["amount"] as? String == "250")
        #expect(json["transaction"] as? String == "0x" + (try v.signingDigest(domain: Fixture.domain)).hexString)
        #expect(PaymentReceiptHeader(accepted: accepted).header(x402Version: 2).name == "PAYMENT-RESPONSE")
    }
}
