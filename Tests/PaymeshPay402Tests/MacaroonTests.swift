import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// Macaroons (libmacaroons v2) and L402 verification (Specs/http402.md §6).
@Suite struct MacaroonTests {
    @Test func mintSerializeParseVerify() throws {
        let challenge = Fixture.l402()
        let parsed = try Macaroon(base64: challenge.macaroon.base64)
        #expect(parsed == challenge.macaroon)
        #expect(try Macaroon(base64: challenge.macaroon.base64URL) == challenge.macaroon)
        try parsed.verifySignature(rootKey: Fixture.rootKey)
        #expect(parsed.caveats.compactMap(\.predicate) == ["services=search:0", "search_capabilities=query",
                                                            "search_valid_until=\(Fixture.now + 3_600)"])
        #expect(challenge.headerValue.hasPrefix("L402 macaroon=\"") && challenge.headerValue.hasSuffix("\", invoice=\"lnpm1invoice\""))
    }

    @Test func l402AcceptsTheRightPreimageUntilTheCaveatExpires() throws {
        let credential = L402Credential(macaroon: Fixture.l402().macaroon, preimage: Fixture.preimage)
        let parsed = try #require(try L402Credential(authorization: credential.authorizationValue))
        let id = try L402Verifier.verify(parsed, rootKey: Fixture.rootKey, service: "search", capability: "query", nowUnixSeconds: Fixture.now)
        #expect(id.paymentHash == Fixture.paymentHash && id.tokenID == Fixture.tokenID)
        // Reusable: the same credential passes again, until valid_until.
        _ = try L402Verifier.verify(parsed, rootKey: Fixture.rootKey, service: "search", nowUnixSeconds: Fixture.now + 3_600)
    }

    @Test func l402Refusals() throws {
        let credential = L402Credential(macaroon: Fixture.l402().macaroon, preimage: Fixture.preimage)
        func code(_ c: L402Credential = credential, service: String = "search", capability: String? = nil,
                  now: UInt64 = Fixture.now, root: [UInt8] = Fixture.rootKey) -> PaymeshErrorCode? {
            refusal { () throws(Pay402Error) in try L402Verifier.verify(c, rootKey: root, service: service, capability: capability, nowUnixSeconds: now) }
        }
        #expect(code(now: Fixture.now + 3_601) == .tokenExpired)
        #expect(code(service: "llm") == .serviceNotAuthorized)
        #expect(code(capability: "admin") == .serviceNotAuthorized)
        #expect(code(L402Credential(macaroon: credential.macaroon, preimage: [UInt8](repeating: 0, count: 32))) == .invalidProof)
        #expect(code(root: [UInt8](repeating: 0, count: 32)) == .invalidProof)
        // A caveat the verifier does not understand is refused (libmacaroons: every caveat must hold).
        var extra = credential.macaroon
        extra.addFirstPartyCaveat("ip=127.0.0.1")
        #expect(code(L402Credential(macaroon: extra, preimage: Fixture.preimage)) == .invalidProof)
        // Attenuation by the holder keeps the token valid (a narrower valid_until).
        var narrower = credential.macaroon
        narrower.addFirstPartyCaveat("search_valid_until=\(Fixture.now + 10)")
        #expect(code(L402Credential(macaroon: narrower, preimage: Fixture.preimage)) == nil)
        #expect(code(L402Credential(macaroon: narrower, preimage: Fixture.preimage), now: Fixture.now + 11) == .tokenExpired)
        var signed = credential.macaroon
        signed.addFirstPartyCaveat("search_valid_until=+99999999999")
        #expect(code(L402Credential(macaroon: signed, preimage: Fixture.preimage)) == .invalidProof)
        // Not an L402 identifier (v0, 66 bytes).
        let plain = Macaroon(rootKey: Fixture.rootKey, identifier: Array("plain".utf8))
        #expect(code(L402Credential(macaroon: plain, preimage: Fixture.preimage)) == .paymentProofMalformed)
    }

    @Test func malformedAuthorization() throws {
        let mac = Fixture.l402().macaroon.base64
        let bad = ["L402", "L402 \(mac)", "L402 \(mac):abcd", "L402 \(mac):\(String(repeating: "zz", count: 32))",
                   "L402 %%%:\(Fixture.preimage.hexString)", "L402 \(mac),\(mac):\(Fixture.preimage.hexString)",
                   "L402 " + String(repeating: "A", count: Pay402Limits.maxProofHeaderBytes)]
        for value in bad {
            #expect(refusal { () throws(Pay402Error) in try L402Credential(authorization: value) } == .paymentProofMalformed, "\(value.prefix(30))")
        }
        #expect(try L402Credential(authorization: "LSAT \(mac):\(Fixture.preimage.hexString)") != nil)
        #expect(try L402Credential(authorization: "Basic dXNlcjpwYXNz") == nil)
    }

    @Test func everyTruncationAndCorruptionIsATypedError() {
        let bytes = Fixture.l402().macaroon.serialized()
        for end in 0..<bytes.count {
            #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: Array(bytes[..<end])) } == .paymentProofMalformed)
        }
        // Flip every byte: parsing either fails with 1320 or yields a macaroon whose signature fails.
        for i in bytes.indices {
            var copy = bytes
            copy[i] ^= 0xff
            do {
                let m = try Macaroon(serialized: copy)
                #expect(refusal { () throws(Pay402Error) in try m.verifySignature(rootKey: Fixture.rootKey) } == .invalidProof)
            } catch {
                #expect(error.code == .paymentProofMalformed)
            }
        }
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: bytes + [0]) } == .paymentProofMalformed)
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: [UInt8](repeating: 2, count: Pay402Limits.maxMacaroonBytes + 1)) } == .paymentProofMalformed)
    }

    @Test func limitsAreEnforced() {
        // 33 caveats (one more than the limit), built by hand.
        var bytes: [UInt8] = [2, 2, 1, 0x41, 0]
        for _ in 0...Pay402Limits.maxCaveats { bytes += [2, 1, 0x61, 0] }
        bytes += [0, 6, 32] + [UInt8](repeating: 0, count: 32)
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: bytes) } == .paymentProofMalformed)
        // A field length past the limit and a varint that never ends.
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: [2, 2, 0xff, 0xff, 0x7f]) } == .paymentProofMalformed)
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: [2, 0x82, 0x80, 0x80, 0x80, 0x01]) } == .paymentProofMalformed)
        // Identifier before location: fields out of order.
        #expect(refusal { () throws(Pay402Error) in try Macaroon(serialized: [2, 2, 1, 0x41, 1, 1, 0x6c, 0, 0, 6, 32] + [UInt8](repeating: 0, count: 32)) } == .paymentProofMalformed)
    }

    @Test func thirdPartyCaveatsAreParsedThenRefused() throws {
        var bytes: [UInt8] = [2, 2, 1, 0x41, 0]
        bytes += [1, 3, 0x6c, 0x6f, 0x63, 2, 1, 0x63, 4, 2, 0x76, 0x76, 0] // location, id, vid
        bytes += [0, 6, 32] + [UInt8](repeating: 0, count: 32)
        let m = try Macaroon(serialized: bytes)
        #expect(m.caveats.first?.verificationID == [0x76, 0x76])
        #expect(m.serialized() == bytes)
        #expect(refusal { () throws(Pay402Error) in try m.verifySignature(rootKey: Fixture.rootKey) } == .invalidProof)
    }
}
