import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct Secp256k1Tests {
    struct KeyVector: Decodable {
        let privateKey: String
        let publicKeyUncompressed: String
        let publicKeyCompressed: String
        let address: String
    }

    static let order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

    /// a − b for 32-byte big-endian numbers, a ≥ b.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in (0..<32).reversed() {
            var d = Int(a[i]) - Int(b[i]) - borrow
            borrow = d < 0 ? 1 : 0
            if d < 0 { d += 256 }
            out[i] = UInt8(d)
        }
        return out
    }

    @Test func keyVectorsFromEthKeys() throws {
        let vectors = try loadCryptoVectors([KeyVector].self, "secp256k1_keys.json")
        #expect(vectors.count >= 10)
        for v in vectors {
            let key = try Secp256k1.PrivateKey(rawRepresentation: hex(v.privateKey))
            #expect(key.publicKey.uncompressedRepresentation.hexString == v.publicKeyUncompressed)
            #expect(key.publicKey.compressedRepresentation.hexString == v.publicKeyCompressed)
            #expect(try Secp256k1.PublicKey(serialized: hex(v.publicKeyCompressed)) == key.publicKey)
            #expect(try Secp256k1.PublicKey(serialized: hex(v.publicKeyUncompressed)) == key.publicKey)
            #expect(EthereumAddress(publicKey: key.publicKey).description == v.address)
            key.withUnsafeRawRepresentation { #expect($0.hexString == v.privateKey) }
        }
    }

    @Test func signVerifyRecoverRoundTrip() throws {
        let key = Secp256k1.PrivateKey.generate()
        let digest = Keccak256.hash(Array("paymesh".utf8))
        let signature = try key.sign(digest32: digest)
        #expect(key.publicKey.isValidSignature(signature, digest32: digest))
        #expect(try signature.recoverPublicKey(digest32: digest) == key.publicKey)
        #expect(try Secp256k1.recoverPublicKey(digest32: digest, signature65: signature.ethereumRepresentation) == key.publicKey)
        #expect(try key.sign(digest32: digest) == signature, "RFC 6979 signing is deterministic")
        let other = Keccak256.hash(Array("paymesh!".utf8))
        #expect(!key.publicKey.isValidSignature(signature, digest32: other))
        #expect(try signature.recoverPublicKey(digest32: other) != key.publicKey)
        #expect(!Secp256k1.PrivateKey.generate().publicKey.isValidSignature(signature, digest32: digest))
    }

    @Test func signaturesAreLowS() throws {
        let half = try hex("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
        let key = Secp256k1.PrivateKey.generate()
        for i in 0..<32 {
            let signature = try key.sign(digest32: Keccak256.hash([UInt8(i)]))
            #expect(!half.lexicographicallyPrecedes(Array(signature.s)), "s ≤ (n − 1) / 2")
            #expect([27, 28].contains(signature.ethereumRepresentation[64]))
        }
    }

    @Test func highSSignatureIsRejectedEverywhere() throws {
        let key = Secp256k1.PrivateKey.generate()
        let digest = Keccak256.hash(Array("malleable".utf8))
        let signature = try key.sign(digest32: digest)
        // (r, n − s) with the other recovery id is the mirror signature EIP-2 outlaws.
        let highS = Self.subtract(try hex(Self.order), Array(signature.s))
        let mirror = Array(signature.r) + highS + [55 - signature.ethereumRepresentation[64]]
        #expect(throws: CryptoError.self) { try Secp256k1.RecoverableSignature(ethereumRepresentation: mirror) }
        #expect(throws: CryptoError.self) { try Secp256k1.recoverPublicKey(digest32: digest, signature65: mirror) }
        #expect(!key.publicKey.isValidSignature(compact64: mirror[0..<64], digest32: digest))
        #expect(key.publicKey.isValidSignature(compact64: signature.compactRepresentation, digest32: digest))
    }

    @Test func vOtherThan27Or28IsRejectedOnTheWire() throws {
        let signature = try Secp256k1.PrivateKey.generate().sign(digest32: [UInt8](repeating: 1, count: 32))
        var wire = signature.ethereumRepresentation
        for v: UInt8 in [0, 1, 2, 26, 29, 30, 255] {
            wire[64] = v
            #expect(throws: CryptoError.self) { try Secp256k1.RecoverableSignature(ethereumRepresentation: wire) }
        }
        // The separate raw API takes recovery ids 0/1 only.
        let raw = try Secp256k1.RecoverableSignature(compact64: signature.compactRepresentation, recoveryID: signature.recoveryID)
        #expect(raw == signature)
        #expect(throws: CryptoError.self) {
            try Secp256k1.RecoverableSignature(compact64: signature.compactRepresentation, recoveryID: 2)
        }
    }

    @Test func malformedSignaturesThrow() throws {
        let order = try hex(Self.order)
        let one = [UInt8](repeating: 0, count: 31) + [1]
        let zero = [UInt8](repeating: 0, count: 32)
        for bad in [[UInt8](), [UInt8](repeating: 1, count: 64), [UInt8](repeating: 1, count: 66),
                    order + one + [27], one + order + [27], zero + one + [27], one + zero + [28],
                    [UInt8](repeating: 0xff, count: 64) + [27]] {
            #expect(throws: CryptoError.self) { try Secp256k1.RecoverableSignature(ethereumRepresentation: bad) }
        }
        let valid = try Secp256k1.PrivateKey.generate().sign(digest32: zero).ethereumRepresentation
        #expect(throws: CryptoError.self) { try Secp256k1.recoverPublicKey(digest32: [UInt8](repeating: 0, count: 31), signature65: valid) }
    }

    @Test func badPrivateKeysThrow() throws {
        let order = try hex(Self.order)
        for bad in [[UInt8](), [UInt8](repeating: 1, count: 31), [UInt8](repeating: 1, count: 33),
                    [UInt8](repeating: 0, count: 32), order, [UInt8](repeating: 0xff, count: 32)] {
            #expect(throws: CryptoError.self) { try Secp256k1.PrivateKey(rawRepresentation: bad) }
        }
        let key = Secp256k1.PrivateKey.generate()
        #expect(throws: CryptoError.self) { try key.sign(digest32: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: CryptoError.self) { try key.sign(digest32: [UInt8](repeating: 1, count: 33)) }
        #expect(!"\(key)".contains(key.withUnsafeRawRepresentation { $0.hexString }))
    }

    @Test func garbagePublicKeysThrow() throws {
        let good = Secp256k1.PrivateKey.generate().publicKey
        var hybrid = good.uncompressedRepresentation
        hybrid[0] = 0x06 | (hybrid[64] & 1)
        var offCurve = good.uncompressedRepresentation
        offCurve[64] ^= 1
        var compressedWrongPrefix = good.compressedRepresentation
        compressedWrongPrefix[0] = 0x04
        let notX = [0x02] + [UInt8](repeating: 0xff, count: 32)
        for bad in [[UInt8](), [0x04], hybrid, offCurve, compressedWrongPrefix, notX,
                    [UInt8](repeating: 0, count: 65), [UInt8](repeating: 0, count: 33), Array(good.uncompressedRepresentation[1...])] {
            #expect(throws: CryptoError.self) { try Secp256k1.PublicKey(serialized: bad) }
        }
    }
}
