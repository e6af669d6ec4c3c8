import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// The channel scheme's verifier (Specs/http402.md §4.3): every refusal, in the spec's order.
@Suite struct ChannelSchemeTests {
    let req = Fixture.requirements()

    func verify(_ header: HTTPHeaderField, channel: ChannelView? = Fixture.channel(),
                requirements: PaymentRequirements? = nil) throws(Pay402Error) -> AcceptedVoucher {
        guard case .channel(let proof)? = try PaymentProof.parse(headers: [header]) else {
            throw Pay402Error(.paymentRequired, "no channel proof")
        }
        return try PaymentVerifier.verify(proof, requirements: requirements ?? req, channel: channel)
    }

    @Test func acceptsAVoucherForThePriceInBothVersions() throws {
        let v = Fixture.voucher(nonce: 5, amount: 1_250, taskID: "req-1")
        for header in [ChannelSchemeProof.xPayment(v, paying: req), ChannelSchemeProof.paymentSignature(v, paying: req)] {
            let accepted = try verify(header)
            #expect(accepted.voucher == v)
            #expect(accepted.increment == 250)
            #expect(accepted.payer == Fixture.payerKey.address)
            #expect(accepted.network == "eip155:84532")
        }
    }

    @Test func refusesEachBadProofWithItsCode() {
        let good = Fixture.voucher(nonce: 5, amount: 1_250)
        let other = EthereumAddress(string: "0x" + String(repeating: "22", count: 20))!
        let cases: [(String, HTTPHeaderField, ChannelView?, PaymentRequirements?, PaymeshErrorCode)] = [
            ("forged", ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 5, amount: 1_250, signer: Fixture.forgerKey), paying: req), Fixture.channel(), nil, .invalidSignature),
            ("replay", ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 4, amount: 1_250), paying: req), Fixture.channel(), nil, .proofReplayed),
            ("underpaid", ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 5, amount: 1_249), paying: req), Fixture.channel(), nil, .insufficientPayment),
            ("decreasing", ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 5, amount: 999), paying: req), Fixture.channel(), nil, .insufficientPayment),
            ("over deposit", ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 5, amount: 1_000_001), paying: req), Fixture.channel(), nil, .insufficientFunds),
            ("wrong payee (v2 accepted)", ChannelSchemeProof.paymentSignature(good, paying: Fixture.requirements(payTo: other)), Fixture.channel(), nil, .wrongPayee),
            ("channel to another payee", ChannelSchemeProof.xPayment(good, paying: req), Fixture.channel(payee: other), nil, .wrongPayee),
            ("unknown channel", ChannelSchemeProof.xPayment(good, paying: req), nil, nil, .channelNotFound),
            ("closed channel", ChannelSchemeProof.xPayment(good, paying: req), Fixture.channel(active: false), nil, .channelNotActive),
            ("priced higher now", ChannelSchemeProof.xPayment(good, paying: req), Fixture.channel(), Fixture.requirements(price: 251), .insufficientPayment),
        ]
        for (name, header, channel, requirements, code) in cases {
            #expect(refusal { () throws(Pay402Error) in try verify(header, channel: channel, requirements: requirements) } == code, "\(name)")
        }
    }

    @Test func aVoucherAcceptedOnceIsAReplayOnceTheChannelHoldsIt() throws {
        let v = Fixture.voucher(nonce: 5, amount: 1_250)
        let header = ChannelSchemeProof.xPayment(v, paying: req)
        let accepted = try verify(header)
        // The payee channel persisted it: the view now holds nonce 5.
        let after = Fixture.channel(latestNonce: accepted.voucher.nonce, latestAmount: accepted.voucher.amount.atomicUnits)
        #expect(refusal { () throws(Pay402Error) in try verify(header, channel: after) } == .proofReplayed)
    }

    @Test func malformedHeadersAreTypedErrors() {
        let tooLong = HTTPHeaderField("X-PAYMENT", String(repeating: "A", count: Pay402Limits.maxProofHeaderBytes + 4))
        let values = ["%%%", "e30", Data("[1,2]".utf8).base64EncodedString(), String(repeating: "=", count: 8), "", tooLong.value]
        for value in values {
            #expect(refusal { () throws(Pay402Error) in try PaymentProof.parse(headers: [.init("X-PAYMENT", value)]) } == .paymentProofMalformed, "\(value.prefix(20))")
            #expect(refusal { () throws(Pay402Error) in try PaymentProof.parse(headers: [.init("PAYMENT-SIGNATURE", value)]) } == .paymentProofMalformed)
        }
        let v = ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 5, amount: 1_250), paying: req)
        #expect(refusal { () throws(Pay402Error) in try PaymentProof.parse(headers: [v, v]) } == .paymentProofMalformed)
        // A nonce the store could not keep (above 2^63 − 1) is malformed before any channel lookup.
        let huge = ChannelSchemeProof.xPayment(Fixture.voucher(nonce: UInt64(Int64.max) + 1, amount: 1_250), paying: req)
        #expect(refusal { () throws(Pay402Error) in try PaymentProof.parse(headers: [huge]) } == .paymentProofMalformed)
    }

    @Test func aProofFedByteByByteNeverCrashes() {
        // Every proper prefix of a valid header (short of its "=" padding, which may be omitted)
        // is refused with a typed error; nothing traps.
        let value = ChannelSchemeProof.paymentSignature(Fixture.voucher(nonce: 5, amount: 1_250), paying: req).value
        let unpadded = value.count - value.reversed().prefix { $0 == "=" }.count
        var refused = 0
        for end in value.indices.prefix(unpadded) {
            if refusal({ () throws(Pay402Error) in try PaymentProof.parse(headers: [.init("PAYMENT-SIGNATURE", String(value[..<end]))]) }) != nil {
                refused += 1
            }
        }
        #expect(refused == unpadded)
    }

    @Test func otherAuthorizationSchemesAreNotProofs() throws {
        #expect(try PaymentProof.parse(headers: [.init("Authorization", "Bearer abc")]) == nil)
        #expect(try PaymentProof.parse(headers: [.init("Accept", "*/*")]) == nil)
    }
}
