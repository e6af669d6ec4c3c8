import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct EIP191Tests {
    struct Vector: Decodable {
        let privateKey: String
        let message: String
        let hash: String
        let signature: String
        let address: String
    }

    @Test func personalSignMatchesEthAccountByteForByte() throws {
        let vectors = try loadCryptoVectors([Vector].self, "eip191_personal_sign.json")
        #expect(vectors.count >= 30)
        #expect(vectors.contains { $0.message.isEmpty })
        for v in vectors {
            let identity = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: hex(v.privateKey)))
            let message = try hex(v.message)
            #expect(identity.address.description == v.address)
            #expect(EIP191.personalMessageHash(message).hexString == v.hash)
            #expect(try identity.personalSign(message: message).hexString == v.signature, "message \(v.message)")
            #expect(try EIP191.recoverPersonalSigner(message: message, signature: hex(v.signature)) == identity.address)
        }
    }

    @Test func prefixBytes() throws {
        // "\x19Ethereum Signed Message:\n5hello"
        let expected = Keccak256.hash([0x19] + Array("Ethereum Signed Message:\n5hello".utf8))
        #expect(EIP191.personalMessageHash("hello") == expected)
        #expect(EIP191.personalMessageHash(Array("hello".utf8)) == expected)
    }

    @Test func unicodeTextIsSignedAsUTF8() throws {
        let identity = IdentityKey.generate()
        let text = "héllo wörld ✓ 🚀"
        let signature = try identity.personalSign(message: text)
        #expect(signature == (try identity.personalSign(message: Array(text.utf8))))
        #expect(try EIP191.recoverPersonalSigner(message: text, signature: signature) == identity.address)
        #expect(try EIP191.recoverPersonalSigner(message: text + " ", signature: signature) != identity.address)
    }

    @Test func badSignaturesThrow() throws {
        let identity = IdentityKey.generate()
        var signature = try identity.personalSign(message: "x")
        #expect(throws: CryptoError.self) { try EIP191.recoverPersonalSigner(message: "x", signature: signature.dropLast()) }
        signature[64] = 29
        #expect(throws: CryptoError.self) { try EIP191.recoverPersonalSigner(message: "x", signature: signature) }
    }
}
